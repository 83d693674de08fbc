package attrib_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
)

// changedBlocks compares two images block by block.
func changedBlocks(t *testing.T, a, b string, bs int64) []blockmap.Range {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != len(y) {
		t.Fatalf("sizes %d and %d", len(x), len(y))
	}
	var rs []blockmap.Range
	for off := int64(0); off < int64(len(x)); off += bs {
		end := min(off+bs, int64(len(x)))
		if !bytes.Equal(x[off:end], y[off:end]) {
			rs = append(rs, blockmap.Range{Off: off, Len: end - off})
		}
	}
	return blockmap.Normalize(rs)
}

// TestClassifyRealSync attributes a generated security update synced into
// a mkfs -d image: every changed block gets a category, shares add up to
// the units Diff finds, and the usual suspects all show up.
func TestClassifyRealSync(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck")
	base, next, err := releasegen.Pair(releasegen.Config{Seed: 5, Scale: 0.03}, "patch")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := base.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := next.Write(b); err != nil {
		t.Fatal(err)
	}
	img := ext4test.BuildImage(t, a, ext4test.ImageOptions{BlockSize: 4096, Size: 40 << 20})
	src, err := dirsource.Read(b, dirsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.ext4")
	res, err := ext4sync.SyncImage(t.Context(), img, src, out, ext4sync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ext4test.Fsck(t, out)
	dev, err := overlay.Open(out, overlay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	l, err := disk.ReadLayout(dev)
	if err != nil {
		t.Fatal(err)
	}
	changed := changedBlocks(t, img, out, int64(l.BlockSize))
	for _, w := range []int64{1 << 20, 4 << 10} {
		m := blockmap.Model{WriteUnit: w, Chunk: 4 << 10, ImageSize: dev.Size()}
		r, err := attrib.Classify(l, m, changed, res.Touched, attrib.Options{})
		if err != nil {
			t.Fatal(err)
		}
		diff, _, err := blockmap.DiffFiles(img, out, m)
		if err != nil {
			t.Fatal(err)
		}
		if r.Result != diff {
			t.Errorf("W=%d: attribution predicts %+v, diff %+v", w, r.Result, diff)
		}
		var blocks int64
		seen := map[attrib.Category]int64{}
		for _, c := range r.Categories {
			blocks += c.Blocks
			seen[c.Category] = c.Blocks
		}
		if blocks != r.BlocksChanged {
			t.Errorf("W=%d: categories hold %d blocks of %d", w, blocks, r.BlocksChanged)
		}
		for _, c := range []attrib.Category{attrib.FileData, attrib.InodeTable, attrib.BlockBitmap, attrib.Superblock, attrib.GroupDescriptors, attrib.Directory} {
			if seen[c] == 0 {
				t.Errorf("W=%d: no %s blocks among %+v", w, c, r.Categories)
			}
		}
		share := 0.0
		for _, c := range r.Contributors {
			share += c.Share
		}
		if math.Abs(share-float64(r.Result.UnitsChanged)) > 1e-6 || int64(len(r.Units)) != r.Result.UnitsChanged {
			t.Errorf("W=%d: shares %v, %d unit rows, %d units changed", w, share, len(r.Units), r.Result.UnitsChanged)
		}
		if seen[attrib.Other] != 0 {
			t.Errorf("W=%d: %d blocks of no known kind", w, seen[attrib.Other])
		}
		t.Logf("W=%d: %d blocks changed, %d units (%d shared); categories %+v", w, r.BlocksChanged, r.Result.UnitsChanged, r.SharedUnits, r.Categories)
		for _, c := range r.Contributors[:min(5, len(r.Contributors))] {
			t.Logf("  %-40s %-8s blocks %4d units %3d sole %3d share %.2f", c.Name, c.Kind, c.Blocks, c.Units, c.SoleUnits, c.Share)
		}
	}
}
