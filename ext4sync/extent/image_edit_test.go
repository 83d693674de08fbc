package extent

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// blockPool hands out blocks debugfs found free, for data and nodes. Freed
// blocks are not handed out again; the bitmap is fixed up from the
// difference between the old and new trees (usedDiff).
type blockPool struct{ free []uint64 }

func (p *blockPool) take(t *testing.T) uint64 {
	b, err := p.AllocBlock(0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (p *blockPool) AllocBlock(goal uint64) (uint64, error) {
	if len(p.free) == 0 {
		return 0, fmt.Errorf("block pool exhausted")
	}
	b := p.free[0]
	p.free = p.free[1:]
	return b, nil
}

func (p *blockPool) FreeBlock(blk uint64) error { return nil }

// Random edits of a real libext2fs tree, each committed to the image and
// checked by e2fsck -fn and debugfs.
func TestRandomEditsE2fsck(t *testing.T) {
	t.Parallel()
	for _, spec := range specs() {
		t.Run(fmt.Sprintf("bs%d", spec.bs), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewSource(int64(spec.bs)))
			im := openImage(t, fixture(t, spec))
			ino, raw, opt := im.inode(t, "/big")
			tr, err := Read(rootOf(raw), im, opt)
			if err != nil {
				t.Fatal(err)
			}
			pool := &blockPool{}
			for i, b := range freeBlocks(t, im.path, 600) {
				if i%2 == 0 { // every other block, so new runs do not merge
					pool.free = append(pool.free, b)
				}
			}
			written := 0
			for step := range 12 {
				maps := slices.Clone(tr.Mappings)
				for range 1 + r.Intn(4) {
					maps = realEdit(t, r, maps, pool)
				}
				var ch *Changes
				tr2, ch, err := Build(maps, tr, im, pool, opt)
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				written += len(ch.Written)
				_, raw, _ = im.inode(t, "/big")
				freeb, setb := usedDiff(tr, tr2)
				commit(t, im, "/big", ino, raw, opt, tr2, freeb, setb)
				tr = tr2
			}
			t.Logf("bs %d: 12 edit steps wrote %d node blocks; final tree entries %v", spec.bs, written, tr.Entries)
		})
	}
}

// realEdit changes one thing in a file of one-block runs: deletes a run,
// moves one to a new block, fills a hole, appends, or truncates a little.
func realEdit(t *testing.T, r *rand.Rand, maps []Mapping, pool *blockPool) []Mapping {
	n := len(maps)
	switch op := r.Intn(5); {
	case op == 0 && n > 1:
		i := r.Intn(n)
		return slices.Delete(maps, i, i+1)
	case op == 1 && n > 0:
		i := r.Intn(n)
		maps[i] = Mapping{Logical: maps[i].Logical, Physical: pool.take(t), Len: 1}
		return maps
	case op == 2 && n > 1:
		for k := 0; k < n-1; k++ {
			i := (r.Intn(n) + k) % (n - 1)
			if l := maps[i].End(); l < uint64(maps[i+1].Logical) {
				return slices.Insert(maps, i+1, Mapping{Logical: uint32(l), Physical: pool.take(t), Len: 1})
			}
		}
		return maps
	case op == 3 || n == 0:
		next := uint32(0)
		if n > 0 {
			next = uint32(maps[n-1].End()) + 1
		}
		return append(maps, Mapping{Logical: next, Physical: pool.take(t), Len: 1, Uninit: r.Intn(3) == 0})
	default:
		k := max(1, n-r.Intn(3))
		return maps[:k]
	}
}

// usedDiff is the blocks (data and nodes) old uses and new does not, and
// the other way round.
func usedDiff(old, new *Tree) (freeb, setb []uint64) {
	set := func(t *Tree) map[uint64]bool {
		m := map[uint64]bool{}
		for _, b := range append(blocksOf(t.Mappings), t.Nodes...) {
			m[b] = true
		}
		return m
	}
	o, n := set(old), set(new)
	for b := range o {
		if !n[b] {
			freeb = append(freeb, b)
		}
	}
	for b := range n {
		if !o[b] {
			setb = append(setb, b)
		}
	}
	slices.Sort(freeb)
	slices.Sort(setb)
	return freeb, setb
}
