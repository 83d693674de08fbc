package ext4sync

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// Property (issue 14, item 2): whatever SOURCE_DATE_EPOCH is, a release
// that frees inodes gives an image e2fsck -fn accepts and every judge
// reads as the release, with 128- and 256-byte inodes. A freed inode's
// dtime below s_inodes_count reads to e2fsck as an orphan-list link
// ("Inodes that were part of a corrupted orphan linked list found"): the
// epochs around the inode count, 0 and 1, 2^31-1, after 2038 and past
// 2^32 (whose low 32 bits are small again) all must hold.
func TestDeletionTimeProperty(t *testing.T) {
	t.Parallel()
	for _, isz := range []int{128, 256} {
		t.Run(fmt.Sprintf("inode%d", isz), func(t *testing.T) {
			t.Parallel()
			opts := smallTree(4096)
			opts.Files = 60
			src := genSource(t, 140+uint64(isz), opts)
			img := ext4test.ImageOptions{BlockSize: 4096, InodeSize: isz, NormalizeTimes: true}
			base := ext4test.BuildImage(t, src, img)
			n := inodesCount(t, base)
			freed := removeSome(t, src, 8)
			if _, err := ext4test.Mutate(rand.New(rand.NewPCG(7, 7)), src, ext4test.MutateOptions{Ops: 10, MaxTarget: 4095}); err != nil {
				t.Fatal(err)
			}
			const added = "added-by-release"
			if err := os.WriteFile(filepath.Join(src, added), []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d inodes; removed %v and 10 random changes", n, freed)
			for _, epoch := range []int64{0, 1, int64(n) - 1, int64(n), int64(n) + 1, 1<<31 - 1, 1<<31 + 400*86400, 1<<32 + 3, 1<<33 - 1} {
				t.Run(fmt.Sprint(epoch), func(t *testing.T) {
					t.Parallel()
					e := epoch
					out := filepath.Join(t.TempDir(), "out.ext4")
					if _, err := SyncImage(t.Context(), base, readTree(t, src), out, Options{SourceDateEpoch: &e}); err != nil {
						t.Fatal(err)
					}
					// Inodes the release does not touch keep their times;
					// the written ones get the epoch, clamped as the
					// kernel clamps it to what the inode holds.
					co := ext4test.EngineCheckOptions()
					co.Compare.Times = ext4test.TimesIgnore
					if isz == 128 {
						co.Compare.Ignore |= ext4test.FieldMtimeNs
					}
					ext4test.CheckImageWith(t, out, src, co)
					want, _ := disk.TruncateTime(epoch, 0, isz > 128)
					got := ext4test.SnapshotImage(t, out).Entries[added]
					if got == nil || got.Ctime.Sec != want || got.Atime.Sec != want {
						t.Errorf("%s: times %+v, want atime and ctime %d", added, got, want)
					}
				})
			}
		})
	}
}

// inodesCount is the image's s_inodes_count.
func inodesCount(t *testing.T, img string) uint32 {
	t.Helper()
	_, f := openOverlayFS(t, img)
	return f.InodesCount()
}

// removeSome deletes up to k regular files of dir (in path order, every
// third), so a sync onto an image of dir frees their inodes.
func removeSome(t *testing.T, dir string, k int) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.Contains(p, "lost+found") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var gone []string
	for i := 0; i < len(files) && len(gone) < k; i += 3 {
		if err := os.Remove(files[i]); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, files[i])
		gone = append(gone, rel)
	}
	return gone
}
