package overlay_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
)

// Superblock layout used by this test (kernel Documentation/filesystems/ext4).
const (
	sbOffset     = 1024  // the primary superblock's byte offset in the image
	sbSize       = 1024  // its size
	sbVolumeName = 0x78  // s_volume_name, 16 bytes
	sbChecksum   = 0x3FC // s_checksum, crc32c of the bytes before it
)

// mkfsImage builds a small Yocto-like image the way the project's fixtures do.
func mkfsImage(t *testing.T, blockSize string) string {
	t.Helper()
	mkfs, fsck := ext4test.Tool(t, "mkfs.ext4"), ext4test.Tool(t, "fsck.ext4")
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for _, d := range []string{"etc", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "etc/hostname"), []byte("device\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "usr/bin/tool"), bytes.Repeat([]byte("tool"), 5000), 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "base.ext4")
	out, err := exec.Command(mkfs, "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file",
		"-b", blockSize, "-d", tree, img, "8M").CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	out, err = exec.Command(fsck, "-pfD", img).CombinedOutput()
	if code := exitCode(err); code > 1 {
		t.Fatalf("fsck.ext4 -pfD: exit %d\n%s", code, out)
	}
	return img
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 255
}

// TestRelabelRealImage edits the superblock of a real ext4 image through
// the overlay and checks the result with e2fsck and dumpe2fs, and the
// overlay's change list with blockmap's diff.
func TestRelabelRealImage(t *testing.T) {
	e2fsck, dumpe2fs := ext4test.Tool(t, "e2fsck"), ext4test.Tool(t, "dumpe2fs")
	for _, bs := range []string{"1024", "4096"} {
		t.Run("b"+bs, func(t *testing.T) {
			img := mkfsImage(t, bs)
			baseBytes, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			blockSize := map[string]int{"1024": 1024, "4096": 4096}[bs]
			d, err := overlay.Open(img, overlay.Options{BlockSize: blockSize, TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()

			sb := make([]byte, sbSize)
			if _, err := d.ReadAt(sb, sbOffset); err != nil {
				t.Fatal(err)
			}
			if _, err := d.WriteAt(sb, sbOffset); err != nil { // unchanged: a no-op
				t.Fatal(err)
			}
			if d.ChangedCount() != 0 {
				t.Fatalf("rewriting the superblock unchanged changed %v", d.ChangedBlocks())
			}
			clear(sb[sbVolumeName : sbVolumeName+16])
			copy(sb[sbVolumeName:], "overlaytest")
			binary.LittleEndian.PutUint32(sb[sbChecksum:], disk.Crc32c(^uint32(0), sb[:sbChecksum]))
			if _, err := d.WriteAt(sb, sbOffset); err != nil {
				t.Fatal(err)
			}
			wantBlock := int64(sbOffset / blockSize)
			if got := d.ChangedBlocks(); !slices.Equal(got, []int64{wantBlock}) {
				t.Fatalf("changed blocks %v, want [%d]", got, wantBlock)
			}

			for _, m := range []blockmap.Model{
				{WriteUnit: 1 << 20, Chunk: 4096},
				{WriteUnit: 1000, Chunk: 4096},
				{WriteUnit: 512, Chunk: 8192},
			} {
				full, fullUnits, err := blockmap.Diff(bytes.NewReader(baseBytes), d, d.Size(), m)
				if err != nil {
					t.Fatal(err)
				}
				m.ImageSize = d.Size()
				var differs []blockmap.Range
				d.Changed(func(off, n int64) { differs = append(differs, blockmap.Range{Off: off, Len: n}) })
				fast, fastUnits, err := blockmap.DiffContext(context.Background(), bytes.NewReader(baseBytes), d, d.Size(), m, blockmap.DiffOptions{Differs: differs})
				if err != nil {
					t.Fatal(err)
				}
				if full != fast || !slices.Equal(fullUnits, fastUnits) || full.UnitsChanged == 0 {
					t.Errorf("W=%d: Diff %+v %v, Diff of the changed blocks %+v %v", m.WriteUnit, full, fullUnits, fast, fastUnits)
				}
			}

			out := filepath.Join(t.TempDir(), "new.ext4")
			if err := d.WriteFile(out); err != nil {
				t.Fatal(err)
			}
			if res, err := exec.Command(e2fsck, "-fn", out).CombinedOutput(); err != nil {
				t.Fatalf("e2fsck -fn: %v\n%s", err, res)
			}
			res, err := exec.Command(dumpe2fs, "-h", out).CombinedOutput()
			if err != nil {
				t.Fatalf("dumpe2fs -h: %v\n%s", err, res)
			}
			if !strings.Contains(string(res), "Filesystem volume name:   overlaytest") {
				t.Errorf("dumpe2fs does not show the new label:\n%s", res)
			}
			after, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, baseBytes) {
				t.Fatal("the base image changed")
			}
		})
	}
}
