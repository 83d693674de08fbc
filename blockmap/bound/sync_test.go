package bound_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/measure"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
)

const imageSize = 40 << 20

// filesInUse is the inodes in use that e2fsck counts ("N/M files").
func filesInUse(t *testing.T, img string) int64 {
	t.Helper()
	out, err := exec.Command("e2fsck", "-fn", img).CombinedOutput()
	if err != nil {
		t.Fatalf("e2fsck -fn %s: %v\n%s", img, err, out)
	}
	m := regexp.MustCompile(`(\d+)/\d+ files`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no file count in e2fsck's output:\n%s", out)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// syncTrees builds a base image of tree a with blocks of bs bytes and
// syncs tree b onto it; it returns both images and what the sync wrote.
func syncTrees(t *testing.T, a, b string, bs int) (base, out string, wrote measure.Wrote) {
	t.Helper()
	base = ext4test.BuildImage(t, a, ext4test.ImageOptions{BlockSize: bs, Size: imageSize, NormalizeTimes: true})
	src, err := dirsource.Read(b, dirsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(t.TempDir(), "out.ext4")
	res, err := ext4sync.SyncImage(t.Context(), base, src, out, ext4sync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ext4test.CheckImage(t, out, b)
	return base, out, measure.Wrote{Differs: res.Differs, Touched: res.Touched}
}

// measureFiles runs measure.Measure on two image files.
func measureFiles(t *testing.T, base, out string, m blockmap.Model, wrote measure.Wrote) *measure.Measurement {
	t.Helper()
	bf, err := os.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	of, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	fi, err := bf.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := measure.Measure(context.Background(), bf, of, fi.Size(), m, wrote, blockmap.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBoundRealSync syncs a generated security update onto mkfs images of
// both block sizes: the bound is below what the sync achieved and below a
// fresh mkfs image of the new tree (another placement) at every write
// unit, and its inode count change is e2fsck's.
func TestBoundRealSync(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs")
	baseRel, nextRel, err := releasegen.Pair(releasegen.Config{Seed: 3, Scale: 0.03}, "patch")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := baseRel.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := nextRel.Write(b); err != nil {
		t.Fatal(err)
	}
	// A new directory of two files, so the inode count changes.
	if err := os.MkdirAll(filepath.Join(b, "opt", "extra"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x", "y"} {
		if err := os.WriteFile(filepath.Join(b, "opt", "extra", name), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, bs := range []int{1024, 4096} {
		base, out, wrote := syncTrees(t, a, b, bs)
		fresh := ext4test.BuildImage(t, b, ext4test.ImageOptions{BlockSize: bs, Size: imageSize})
		r := measureFiles(t, base, out, blockmap.Model{WriteUnit: 1 << 20, Chunk: 4 << 10}, wrote)
		f := r.Facts
		if diff, _, err := blockmap.DiffFiles(base, out, blockmap.Model{WriteUnit: 1 << 20, Chunk: 4 << 10}); err != nil || diff != r.Result {
			t.Fatalf("%d: measured %+v, diff %+v (%v)", bs, r.Result, diff, err)
		}
		var fileData int64
		for _, c := range r.Attribution.Categories {
			if c.Category == attrib.FileData {
				fileData = c.Blocks
			}
		}
		if f.NewData == 0 || f.NewData > fileData || len(f.Forced) == 0 {
			t.Errorf("%d: facts %+v (%d changed file-data blocks)", bs, f, fileData)
		}
		if want := filesInUse(t, out) - filesInUse(t, base); f.InodesDelta != want || want == 0 {
			t.Errorf("%d: inodes in use change by %d, e2fsck says %d", bs, f.InodesDelta, want)
		}
		for _, w := range []int64{4 << 10, 64 << 10, 1 << 20} {
			m := blockmap.Model{WriteUnit: w, Chunk: 4 << 10, ImageSize: imageSize}
			lb, err := f.Bound(m)
			if err != nil {
				t.Fatal(err)
			}
			if lb.Units == 0 || lb.DataUnits == 0 {
				t.Errorf("%d/W=%d: bound %+v", bs, w, lb)
			}
			for name, img := range map[string]string{"sync": out, "fresh mkfs": fresh} {
				got, _, err := blockmap.DiffFiles(base, img, m)
				if err != nil {
					t.Fatal(err)
				}
				if lb.Units > got.UnitsChanged || lb.COWBytes > got.COWBytes {
					t.Errorf("%d/W=%d: bound %+v above the %s's %d units, %d COW bytes", bs, w, lb, name, got.UnitsChanged, got.COWBytes)
				}
			}
			t.Logf("%d-byte blocks, W=%d: bound %d units (%d data, %d metadata; D=%d, %d forced table blocks, inodes %+d); sync %d units",
				bs, w, lb.Units, lb.DataUnits, lb.MetaUnits, f.NewData, len(f.Forced), f.InodesDelta, r.Result.UnitsChanged)
		}
	}
}

// TestBoundNoop: syncing a tree onto its own image changes nothing and
// the bound is zero.
func TestBoundNoop(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs")
	rel := releasegen.Base(releasegen.Config{Seed: 4, Scale: 0.01})
	a := filepath.Join(t.TempDir(), "a")
	if err := rel.Write(a); err != nil {
		t.Fatal(err)
	}
	base, out, wrote := syncTrees(t, a, a, 4096)
	m := blockmap.Model{WriteUnit: 4 << 10, Chunk: 4 << 10}
	r := measureFiles(t, base, out, m, wrote)
	m.ImageSize = imageSize
	lb, err := r.Facts.Bound(m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Result.UnitsChanged != 0 || lb.Units != 0 || lb.COWBytes != m.COWBytes(0) {
		t.Errorf("no-op: %d units changed, bound %+v", r.Result.UnitsChanged, lb)
	}
}
