package placement_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// benchEnv, when set to a scale, runs the comparison at that scale.
const benchEnv = "LVMUM_PLACEMENT_BENCH"

const (
	kib = 1 << 10
	mib = 1 << 20
)

// release writes a generated release pair and builds the base image the
// way a Yocto build does.
func release(t *testing.T, seed uint64, scale float64, bs int, size int64) (img string, next *tree.Tree) {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck")
	base, nx, err := releasegen.Pair(releasegen.Config{Seed: seed, Scale: scale}, "patch")
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
	if _, err := ext4sync.Sync(t.Context(), f, next, ext4sync.Options{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.ext4")
	if err := dev.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// policy makes the cost-aware placement for write unit w over dev: given
// the device up front at W = 1 MiB, attached later (as a sync
// that opens its own overlay would) otherwise.
func policy(w int64, size int64) func(*overlay.Device) (fs.Placement, error) {
	return func(dev *overlay.Device) (fs.Placement, error) {
		m := blockmap.Model{WriteUnit: w, Chunk: 4 * kib, ImageSize: size}
		if w != mib {
			p := placement.New(m, nil)
			return p, p.Attach(dev)
		}
		return placement.New(m, dev), nil
	}
}

// TestReleaseCostsNoMoreThanDefault syncs a generated security update with
// the default and the cost-aware placement and compares the predicted COW.
// LVMUM_PLACEMENT_BENCH=<scale> measures instead at that scale over seeds
// 1-4 in images of 450 MiB * scale (1.0 is the reference 450 MiB image).
func TestReleaseCostsNoMoreThanDefault(t *testing.T) {
	seeds, scale, size := []uint64{3}, 0.04, int64(48*mib)
	if v := os.Getenv(benchEnv); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 || s > 1 {
			t.Fatalf("%s=%q: want a scale in (0, 1]", benchEnv, v)
		}
		seeds, scale, size = []uint64{1, 2, 3, 4}, s, max(size, int64(float64(450*mib)*s)&^(mib-1))
	}
	type total struct{ def, pol int64 }
	totals := map[string]*total{}
	var keys []string
	for _, seed := range seeds {
		for _, bs := range []int{1024, 4096} {
			img, next := release(t, seed, scale, bs, size)
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
				key := fmt.Sprintf("%d-byte blocks, W=%d", bs, w)
				t.Logf("seed %d, %s: default %d units, %d KiB COW; policy %d units, %d KiB COW",
					seed, key, dr.UnitsChanged, dr.COWBytes/kib, pr.UnitsChanged, pr.COWBytes/kib)
				if totals[key] == nil {
					totals[key] = &total{}
					keys = append(keys, key)
				}
				totals[key].def += dr.UnitsChanged
				totals[key].pol += pr.UnitsChanged
				if pr.COWBytes > dr.COWBytes {
					t.Errorf("seed %d, %s: policy predicts %d bytes of COW, default %d", seed, key, pr.COWBytes, dr.COWBytes)
				}
			}
		}
	}
	for _, k := range keys {
		t.Logf("total %s: default %d units, policy %d", k, totals[k].def, totals[k].pol)
	}
}
