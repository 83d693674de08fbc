package ext4sync

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// relocUnit is the write unit of the relocation tests: 16 blocks of 4 KiB.
const relocUnit = 64 << 10

// With a cost-aware placement, a changed file whose differing block sits
// in a clean unit is relocated into the room a new file left in the unit it
// opened (free), instead of dirtying its own unit; the image stays correct
// and the release costs fewer units than with the default placement, which
// overwrites in place.
func TestRelocateIntoOpenedUnit(t *testing.T) {
	t.Parallel()
	src := genSource(t, 41, smallTree(4096))
	rng := rand.New(rand.NewPCG(41, 42))
	write := func(rel string, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(255) + 1)
		}
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := write("lib/a.bin", 3*4096)
	base := ext4test.BuildImage(t, src, configs[0].img)
	before := blocksOf(t, base, "lib/a.bin")

	a[4096+7] ^= 0x55 // one differing block
	if err := os.WriteFile(filepath.Join(src, "lib/a.bin"), a, 0o644); err != nil {
		t.Fatal(err)
	}
	write("new/n.bin", 5*4096)

	model := blockmap.Model{WriteUnit: relocUnit, Chunk: 4096}
	units := func(out string) int64 {
		fi, err := os.Stat(base)
		if err != nil {
			t.Fatal(err)
		}
		m := model
		m.ImageSize = fi.Size()
		bf, _ := os.Open(base)
		defer bf.Close()
		of, _ := os.Open(out)
		defer of.Close()
		res, _, err := blockmap.Diff(bf, of, fi.Size(), m)
		if err != nil {
			t.Fatal(err)
		}
		return res.UnitsChanged
	}
	outDefault := filepath.Join(t.TempDir(), "default.ext4")
	if _, err := SyncImage(t.Context(), base, readTree(t, src), outDefault, Options{}); err != nil {
		t.Fatal(err)
	}
	outCost := filepath.Join(t.TempDir(), "cost.ext4")
	pl := placement.New(model, nil)
	if _, err := SyncImage(t.Context(), base, readTree(t, src), outCost, Options{Placement: pl}); err != nil {
		t.Fatal(err)
	}
	ext4test.CheckImage(t, outCost, src)
	ext4test.CheckImage(t, outDefault, src)

	if got := blocksOf(t, outDefault, "lib/a.bin"); !equalBlocks(got, before) {
		t.Errorf("default placement moved a.bin: %v -> %v", before, got)
	}
	after := blocksOf(t, outCost, "lib/a.bin")
	if equalBlocks(after, before) {
		t.Fatalf("cost-aware placement left a.bin in place at %v", before)
	}
	n := blocksOf(t, outCost, "new/n.bin")
	if after[0]/16 != n[len(n)-1]/16 {
		t.Errorf("a.bin relocated to %v, not into n.bin's unit (n.bin at %v)", after, n)
	}
	if ud, uc := units(outDefault), units(outCost); uc >= ud {
		t.Errorf("cost-aware release changes %d units of %d KiB, default %d: relocation did not pay", uc, relocUnit>>10, ud)
	}
}

// blocksOf lists a file's data blocks as debugfs sees them.
func blocksOf(t *testing.T, img, rel string) []int64 {
	t.Helper()
	var out []int64
	for _, f := range strings.Fields(debugfsRun(t, img, "blocks /"+rel)) {
		b, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("debugfs blocks /%s: %q", rel, f)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Fatalf("debugfs: /%s has no blocks", rel)
	}
	return out
}

func equalBlocks(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
