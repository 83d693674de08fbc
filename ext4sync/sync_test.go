package ext4sync

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// smallTree is a rootfs-like mix of every kind of node, small enough that
// a test runs in a few seconds. Symlink targets stay below the block
// size, as ext4 requires.
func smallTree(blockSize int) ext4test.GenOptions {
	o := ext4test.DefaultGenOptions()
	o.MaxTarget = blockSize - 1
	o.Owners = os.Geteuid() == 0
	if os.Geteuid() != 0 {
		o.Specials = 0
	}
	return o
}

// A release identical to what the image holds writes nothing: not one
// block of the overlay differs afterwards.
func TestNoOpSyncWritesNothing(t *testing.T) {
	t.Parallel()
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			src := genSource(t, 1, smallTree(c.img.BlockSize))
			base := ext4test.BuildImage(t, src, c.img)
			out1, _ := syncFile(t, base, src)
			ext4test.CheckImage(t, out1, src)

			dev, res := syncOverlay(t, out1, src)
			if n := dev.ChangedCount(); n != 0 {
				t.Errorf("no-op sync changed %d blocks: %v; touched %v", n, dev.ChangedBlocks(), res.Touched)
			}
			if res.Added+res.Changed+res.Removed != 0 || res.Unchanged == 0 {
				t.Errorf("no-op result %+v", *res)
			}
		})
	}
}

// The tree an image was built from (with the metadata mkfs keeps: whole
// seconds, the root's mtime at mkfs time) syncs onto it with zero writes,
// through the public Sync on an FS the caller opened.
func TestNoOpOnMkfsBase(t *testing.T) {
	t.Parallel()
	c := configs[0]
	src := genSource(t, 2, smallTree(c.img.BlockSize))
	normalizeForMkfs(t, src, ext4test.DefaultFakeTime)
	base := ext4test.BuildImage(t, src, c.img)
	dev, f := openOverlayFS(t, base)
	res, err := Sync(t.Context(), f, readTree(t, src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := dev.ChangedCount(); n != 0 {
		t.Errorf("sync of the base's own tree changed %d blocks: %v; result %+v", n, dev.ChangedBlocks(), *res)
	}
	if res.Added+res.Changed+res.Removed != 0 || res.Touched != nil {
		t.Errorf("result %+v", *res)
	}
}

// A sequence of random releases applied one after another onto the same
// image: after every one the image is clean for e2fsck, every judge sees
// exactly the release's tree, and no input image was modified.
// LVMUM_RELEASES (default 3), LVMUM_SEED and LVMUM_BIGDIR=1 (an htree
// directory of 3000 entries in every configuration, not only the first)
// make it a longer search.
func TestReleases(t *testing.T) {
	t.Parallel()
	releases, seed0 := 3, uint64(100)
	if v, err := strconv.Atoi(os.Getenv("LVMUM_RELEASES")); err == nil && v > 0 {
		releases = v
	}
	if v, err := strconv.ParseUint(os.Getenv("LVMUM_SEED"), 10, 64); err == nil {
		seed0 = v
	}
	// The first configuration always carries a directory of 3000 entries,
	// which fsck -D indexes, so every run edits an htree; LVMUM_BIGDIR=1
	// gives every configuration one.
	gen := func(ci, bs int) ext4test.GenOptions {
		o := smallTree(bs)
		if ci == 0 || os.Getenv("LVMUM_BIGDIR") != "" {
			o.BigDir = 3000
		}
		return o
	}
	for ci, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			seed := seed0 + uint64(ci)
			rng := rand.New(rand.NewPCG(seed, seed*7))
			src := genSource(t, seed, gen(ci, c.img.BlockSize))
			img := ext4test.BuildImage(t, src, c.img)
			baseSum := fileSHA256(t, img)
			base := img
			for r := 0; r < releases; r++ {
				ops, err := ext4test.Mutate(rng, src, ext4test.MutateOptions{Ops: 25, MaxSize: 96 << 10, MaxTarget: c.img.BlockSize - 1})
				if err != nil {
					t.Fatal(err)
				}
				inSum := fileSHA256(t, img)
				out, res := syncFile(t, img, src)
				t.Logf("release %d: %d ops, result +%d ~%d -%d =%d", r, len(ops), res.Added, res.Changed, res.Removed, res.Unchanged)
				ext4test.CheckImage(t, out, src)
				if t.Failed() {
					t.Fatalf("release %d failed; ops:\n%v", r, ops)
				}
				if fileSHA256(t, img) != inSum {
					t.Fatalf("release %d modified its input image", r)
				}
				img = out
			}
			if fileSHA256(t, base) != baseSum {
				t.Fatal("the base image was modified")
			}
		})
	}
}

// The same base and tree give byte-identical images.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	c := configs[0]
	rng := rand.New(rand.NewPCG(7, 7))
	src := genSource(t, 7, smallTree(c.img.BlockSize))
	base := ext4test.BuildImage(t, src, c.img)
	if _, err := ext4test.Mutate(rng, src, ext4test.MutateOptions{Ops: 30}); err != nil {
		t.Fatal(err)
	}
	out1, res1 := syncFile(t, base, src)
	var phases []string
	last := map[string][2]int64{}
	out2 := filepath.Join(t.TempDir(), "out.ext4")
	res2, err := SyncImage(t.Context(), base, readTree(t, src), out2, Options{
		Progress: func(phase string, done, total int64) {
			if len(phases) == 0 || phases[len(phases)-1] != phase {
				phases = append(phases, phase)
			}
			last[phase] = [2]int64{done, total}
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{PhaseRead, PhaseRemove, PhaseInodes, PhaseDigest, PhasePlace, PhaseContent, PhaseDirs, PhaseSave}
	if !reflect.DeepEqual(phases, want) {
		t.Errorf("progress phases %v, want %v", phases, want)
	}
	for ph, dt := range last {
		if dt[0] != dt[1] {
			t.Errorf("phase %s ended at %d of %d", ph, dt[0], dt[1])
		}
	}
	if a, b := fileSHA256(t, out1), fileSHA256(t, out2); a != b {
		t.Errorf("two syncs differ: %s vs %s", a, b)
	}
	if !reflect.DeepEqual(res1, res2) {
		t.Errorf("results differ:\n%+v\n%+v", *res1, *res2)
	}
	ext4test.Fsck(t, out1)
}

// The base's directory is never written: SyncImage refuses a missing base
// without creating the output.
func TestSyncImageMissingBase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := t.TempDir()
	out := filepath.Join(dir, "out.ext4")
	if _, err := SyncImage(t.Context(), filepath.Join(dir, "missing.ext4"), readTree(t, src), out, Options{}); err == nil {
		t.Fatal("SyncImage of a missing base succeeded")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("output exists after failure: %v", err)
	}
}

// SyncImage refuses to write over its base.
func TestSyncImageRefusesBaseAsOutput(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	base := ext4test.BuildImage(t, src, configs[0].img)
	sum := fileSHA256(t, base)
	if _, err := SyncImage(t.Context(), base, readTree(t, src), base, Options{}); err == nil {
		t.Fatal("SyncImage wrote over its base")
	}
	if fileSHA256(t, base) != sum {
		t.Fatal("base modified")
	}
}
