package dir

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// checkHtree verifies what e2fsck's pass 2 checks of an htree: every block
// but the root is referenced exactly once, index hashes are ordered, and
// every live entry of a leaf hashes within the leaf's range.
func checkHtree(d *Dir) error {
	_, root, err := d.root()
	if err != nil {
		return err
	}
	refs := map[uint32]int{}
	var walk func(dx *dxBlock, lo, hi uint64, level int) error
	walk = func(dx *dxBlock, lo, hi uint64, level int) error {
		for i, e := range dx.entries {
			elo, ehi := lo, hi
			if i > 0 {
				elo = uint64(e.hash &^ 1)
			}
			if i+1 < len(dx.entries) {
				ehi = uint64(dx.entries[i+1].hash &^ 1)
			}
			if elo < lo || ehi > hi || elo > ehi {
				return fmt.Errorf("block %d: range %#x..%#x outside parent %#x..%#x", e.block, elo, ehi, lo, hi)
			}
			refs[e.block]++
			if level > 0 {
				_, n, err := d.node(e.block)
				if err != nil {
					return err
				}
				if err := walk(n, elo, ehi, level-1); err != nil {
					return err
				}
				continue
			}
			c, err := d.get(e.block, kindLeaf)
			if err != nil {
				return err
			}
			ents, err := d.dirents(e.block, c)
			if err != nil {
				return err
			}
			for _, de := range ents {
				if de.inode == 0 {
					continue
				}
				h, _ := d.hash(de.name)
				if uint64(h) < elo || uint64(h) > ehi {
					return fmt.Errorf("leaf %d: %q hash %#x outside %#x..%#x", e.block, de.name, h, elo, ehi)
				}
			}
		}
		return nil
	}
	if err := walk(root, 0, 1<<32, d.levels); err != nil {
		return err
	}
	for l := uint32(1); l < d.f.Blocks(); l++ {
		if refs[l] != 1 {
			return fmt.Errorf("block %d referenced %d times", l, refs[l])
		}
	}
	return nil
}

func bigMem(t *testing.T, bs int) (*memFile, Params) {
	t.Helper()
	img := fixture(t, bs)
	o := openOnImage(t, img, "/bigdir")
	return o.loadMem(t), o.params
}

// TestIndexFull fills a 1 KiB htree with long names until two levels are
// full: without largedir Add must refuse cleanly and change nothing; with
// largedir a third level is added.
func TestIndexFull(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("fills a directory index")
	}
	mem, p := bigMem(t, 1024)
	d, err := Open(mem, p)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 230)
	var fullErr error
	n := 0
	for ; n < 200000; n++ {
		fullErr = d.Add(Entry{Name: fmt.Sprintf("%s%08d", long, n), Inode: 12, Type: TypeRegular})
		if fullErr != nil {
			break
		}
	}
	if fullErr == nil || !strings.Contains(fullErr.Error(), "index full") {
		t.Fatalf("after %d adds: %v, want an index-full error", n, fullErr)
	}
	t.Logf("index full after %d adds, %d blocks: %v", n, mem.Blocks(), fullErr)
	if err := checkHtree(d); err != nil {
		t.Fatal(err)
	}
	before := mem.clone()
	if err := d.Add(Entry{Name: fmt.Sprintf("%s%08d", long, n), Inode: 12}); err == nil {
		t.Fatal("second add into a full index succeeded")
	}
	for l := range before.blocks {
		if string(before.blocks[l]) != string(mem.blocks[l]) {
			t.Fatalf("failed Add changed block %d", l)
		}
	}
	p.LargeDir = true
	d, err = Open(mem, p)
	if err != nil {
		t.Fatal(err)
	}
	for k := n; k < n+1000; k++ {
		if err := d.Add(Entry{Name: fmt.Sprintf("%s%08d", long, k), Inode: 12}); err != nil {
			t.Fatalf("largedir add %d: %v", k, err)
		}
	}
	if d.levels != 2 {
		t.Fatalf("largedir: levels %d, want 2", d.levels)
	}
	if err := checkHtree(d); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(5))
	for range 2000 {
		k := r.Intn(n + 1000)
		if _, ok, err := d.Lookup(fmt.Sprintf("%s%08d", long, k)); !ok || err != nil {
			t.Fatalf("Lookup %d: %v %v", k, ok, err)
		}
	}
}

// TestCollisions adds many names with one hash (through a test hook) so
// leaves split inside a collision run; every name must stay reachable.
func TestCollisions(t *testing.T) {
	t.Parallel()
	mem, p := bigMem(t, 1024)
	d, err := Open(mem, p)
	if err != nil {
		t.Fatal(err)
	}
	const collHash = 0x40000000
	d.testHash = func(name []byte) (uint32, bool) {
		return collHash, strings.HasPrefix(string(name), "coll-")
	}
	var names []string
	for i := range 100 {
		name := fmt.Sprintf("coll-%0200d", i)
		names = append(names, name)
		if err := d.Add(Entry{Name: name, Inode: 12, Type: TypeRegular}); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	_, root, _ := d.root()
	blocks := []*dxBlock{root}
	nodes, err := d.indexNodes()
	if err != nil {
		t.Fatal(err)
	}
	for l := range nodes {
		_, n, err := d.node(l)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, n)
	}
	continued := 0
	for _, b := range blocks {
		for _, e := range b.entries {
			if e.hash == collHash|1 {
				continued++
			}
		}
	}
	t.Logf("levels %d, %d index entries with the collision bit", d.levels, continued)
	if continued == 0 {
		t.Fatal("no index entry carries the collision bit")
	}
	if err := checkHtree(d); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		if _, ok, err := d.Lookup(name); !ok || err != nil {
			t.Fatalf("Lookup coll %d: %v %v", i, ok, err)
		}
		if i%3 == 0 {
			if err := d.Remove(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, name := range names {
		_, ok, err := d.Lookup(name)
		if err != nil || ok != (i%3 != 0) {
			t.Fatalf("after removals, Lookup coll %d: %v %v", i, ok, err)
		}
	}
}
