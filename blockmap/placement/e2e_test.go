package placement_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// release writes a generated release pair and builds the base image the
// way a Yocto build does.
func release(t *testing.T, scale float64, bs int, size int64) (img string, next *tree.Tree) {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck")
	base, nx, err := releasegen.Pair(releasegen.Config{Seed: 3, Scale: scale}, "patch")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := base.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := nx.Write(b); err != nil {
		t.Fatal(err)
	}
	img = ext4test.BuildImage(t, a, ext4test.ImageOptions{BlockSize: bs, Size: size})
	next, err = dirsource.Read(b, dirsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return img, next
}

// syncWith syncs the base image to next with the placement mk makes (nil:
// the default) and returns the output image's path.
func syncWith(t *testing.T, img string, next *tree.Tree, mk func(*overlay.Device) (fs.Placement, error)) string {
	t.Helper()
	dev, err := overlay.Open(img, overlay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	var p fs.Placement
	if mk != nil {
		if p, err = mk(dev); err != nil {
			t.Fatal(err)
		}
	}
	f, err := fs.Open(dev, fs.Options{Placement: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ext4sync.Sync(f, next, ext4sync.Options{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.ext4")
	if err := dev.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// policy makes the cost-aware placement for write unit w over dev.
func policy(w int64, size int64) func(*overlay.Device) (fs.Placement, error) {
	return func(dev *overlay.Device) (fs.Placement, error) {
		l, err := attrib.ReadLayout(dev)
		if err != nil {
			return nil, err
		}
		m := blockmap.Model{WriteUnit: w, Chunk: 4 * kib, ImageSize: size}
		return placement.New(m, dev, placement.Options{Layout: l}), nil
	}
}

func TestReleaseCostsNoMoreThanDefault(t *testing.T) {
	for _, c := range []struct {
		name  string
		bs    int
		size  int64
		scale float64
	}{
		{"1k", 1024, 48 * mib, 0.04},
		{"4k", 4096, 48 * mib, 0.04},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, next := release(t, c.scale, c.bs, c.size)
			st, err := os.Stat(img)
			if err != nil {
				t.Fatal(err)
			}
			size := st.Size()
			def := syncWith(t, img, next, nil)
			ext4test.Fsck(t, def)
			for _, w := range []int64{mib, 4 * kib} {
				m := blockmap.Model{WriteUnit: w, Chunk: 4 * kib, ImageSize: size}
				dr, _, err := blockmap.DiffFiles(img, def, m)
				if err != nil {
					t.Fatal(err)
				}
				out := syncWith(t, img, next, policy(w, size))
				ext4test.Fsck(t, out)
				pr, _, err := blockmap.DiffFiles(img, out, m)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s W=%d: default %d units, %d KiB COW; policy %d units, %d KiB COW",
					c.name, w, dr.UnitsChanged, dr.COWBytes/kib, pr.UnitsChanged, pr.COWBytes/kib)
				if pr.COWBytes > dr.COWBytes {
					t.Errorf("W=%d: policy predicts %d bytes of COW, default %d", w, pr.COWBytes, dr.COWBytes)
				}
			}
		})
	}
}
