package extent

import (
	"math/rand"
	"slices"
	"testing"
)

// libext2fsLike builds maps the way libext2fs (mkfs -d, debugfs write)
// leaves them: appending splits nodes so that every leaf but the last holds
// per-1 extents.
func libext2fsLike(t *testing.T, s *memStore, a *memAlloc, maps []Mapping, per int) *Tree {
	t.Helper()
	sh := &shape{}
	items := len(maps)
	for d := 0; items > RootMax; d++ {
		var gs []group
		var bs []uint64
		for i := 0; i < items; i += per - 1 {
			gs = append(gs, group{start: i, n: min(per-1, items-i), keep: -1})
			bs = append(bs, placeholderBase+uint64(len(bs)))
		}
		sh.groups = append(sh.groups, gs)
		sh.blocks = append(sh.blocks, bs)
		items = len(gs)
	}
	sh.root = items
	tr, _, err := apply(sh, maps, nil, s, a, testOpt())
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(tr.Root[:], s, testOpt())
	if err != nil || !slices.Equal(back.Mappings, maps) {
		t.Fatalf("libext2fs-like tree does not read back: %v", err)
	}
	return back
}

// A change in the middle of a long file rewrites only the leaf that holds
// it when the leaf has room, and the leaves after it keep their blocks.
func TestMiddleChangeKeepsLaterLeaves(t *testing.T) {
	t.Parallel()
	per := BlockMax(1024)
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	maps := sparseMaps(20*(per-1) + 7)
	tr := libext2fsLike(t, s, a, maps, per)
	if tr.Depth != 2 || tr.Entries[0][3] != per-1 {
		t.Fatalf("setup: depth %d entries %v", tr.Depth, tr.Entries)
	}
	// Fill the hole after extent 5*(per-1)+3 (in leaf 5) with a new run.
	i := 5*(per-1) + 3
	changed := slices.Insert(slices.Clone(maps), i+1, Mapping{Logical: maps[i].Logical + 1, Physical: maps[i].Physical + 100000, Len: 1})
	tr2, ch := build(t, s, a, changed, tr)
	if len(ch.Allocated) != 0 || len(ch.Freed) != 0 || !slices.Equal(ch.Written, []uint64{tr.Levels[0][5]}) {
		t.Fatalf("middle change: %+v, want only leaf 5 (%d) written", ch, tr.Levels[0][5])
	}
	// A second insert overflows leaf 5: it spills into leaf 6, which has
	// a free slot, and nothing after leaf 6 moves.
	changed = slices.Insert(changed, i+3, Mapping{Logical: maps[i+1].Logical + 1, Physical: maps[i].Physical + 200000, Len: 1})
	tr3, ch := build(t, s, a, changed, tr2)
	if len(ch.Allocated) != 0 || len(ch.Freed) != 0 {
		t.Fatalf("overflow: %+v", ch)
	}
	if !slices.Equal(tr3.Levels[0], tr.Levels[0]) || !slices.Equal(tr3.Levels[0][7:], tr.Levels[0][7:]) {
		t.Fatalf("leaves moved: %v -> %v", tr.Levels[0], tr3.Levels[0])
	}
	t.Logf("overflow wrote %v (leaf 5 %d, leaf 6 %d)", ch.Written, tr.Levels[0][5], tr.Levels[0][6])
}

// In a tree of full leaves, an extra extent in the middle cascades to the
// end (nowhere else has room), and e2fsck still finds the tree optimal.
func TestMiddleChangeFullLeaves(t *testing.T) {
	t.Parallel()
	per := BlockMax(1024)
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	maps := sparseMaps(20*per + 7)
	tr, _ := build(t, s, a, maps, nil)
	i := 5*per + 3
	changed := slices.Insert(slices.Clone(maps), i+1, Mapping{Logical: maps[i].Logical + 1, Physical: maps[i].Physical + 100000, Len: 1})
	tr2, _ := build(t, s, a, changed, tr)
	if !slices.Equal(tr2.Levels[0][:5], tr.Levels[0][:5]) || wouldRebuild(tr2.Entries, rootEntries(tr2), per) {
		t.Fatalf("leaves %v -> %v, entries %v", tr.Levels[0], tr2.Levels[0], tr2.Entries)
	}
}

// Random edit sequences on trees of every depth: each Build must read back,
// satisfy e2fsck's optimality rules, and leave exactly the tree's nodes
// allocated (no leak, no double use).
func TestRandomEdits(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(4))
	for _, bs := range []int{1024, 4096} {
		per := BlockMax(bs)
		for round := range 12 {
			s, a := newMemStore(bs), newMemAlloc(1<<20)
			maps := sparseMaps(r.Intn(6 * per))
			var tr *Tree
			if round%2 == 0 && len(maps) > 0 {
				tr = libext2fsLike(t, s, a, maps, per)
				for _, b := range tr.Nodes {
					a.inUse[b] = true
				}
			} else {
				tr, _ = build(t, s, a, maps, nil)
			}
			for step := range 40 {
				maps = randomEdit(r, maps, per)
				var ch *Changes
				tr, ch = build(t, s, a, maps, tr)
				if wouldRebuild(tr.Entries, rootEntries(tr), per) {
					t.Fatalf("bs %d round %d step %d: e2fsck would rebuild %v", bs, round, step, tr.Entries)
				}
				if len(a.inUse) != len(tr.Nodes) {
					t.Fatalf("bs %d round %d step %d: %d blocks in use for %d nodes (%+v)", bs, round, step, len(a.inUse), len(tr.Nodes), ch)
				}
			}
		}
	}
}

// randomEdit inserts, deletes, relocates, appends or truncates runs of a
// sparseMaps-style list (one-block runs on even logical blocks).
func randomEdit(r *rand.Rand, maps []Mapping, per int) []Mapping {
	maps = slices.Clone(maps)
	n := len(maps)
	switch op := r.Intn(5); {
	case op == 0 && n > 0: // delete a few runs
		i := r.Intn(n)
		return slices.Delete(maps, i, min(n, i+1+r.Intn(3)))
	case op == 1 && n > 0: // relocate a run (same logical block)
		i := r.Intn(n)
		maps[i].Physical = 1<<30 + uint64(r.Intn(1<<20))*2
		return maps
	case op == 2 && n > 0: // fill the odd hole after a run
		i := r.Intn(n)
		if l := maps[i].End(); i+1 == n || uint64(maps[i+1].Logical) > l {
			return slices.Insert(maps, i+1, Mapping{Logical: uint32(l), Physical: 1<<31 + uint64(r.Intn(1<<20))*2, Len: 1})
		}
		return maps
	case op == 3: // append
		next := uint32(0)
		if n > 0 {
			next = uint32(maps[n-1].End()) + 1
		}
		for k := range 1 + r.Intn(2*per) {
			maps = append(maps, Mapping{Logical: next + uint32(2*k), Physical: 1<<32 + uint64(next) + uint64(3*k), Len: 1})
		}
		return maps
	default: // truncate
		return maps[:r.Intn(n+1)]
	}
}

// Depth 3 on 1 KiB blocks: more than 4*84*84 extents.
func TestDepthThree(t *testing.T) {
	t.Parallel()
	per := BlockMax(1024)
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	maps := sparseMaps(4*per*per + 100)
	tr, _ := build(t, s, a, maps, nil)
	if tr.Depth != 3 || wouldRebuild(tr.Entries, rootEntries(tr), per) {
		t.Fatalf("depth %d, entries per level %d/%d/%d", tr.Depth, len(tr.Entries[0]), len(tr.Entries[1]), len(tr.Entries[2]))
	}
	grown := append(slices.Clone(maps), Mapping{Logical: 1 << 31, Physical: 1 << 33, Len: 7})
	_, ch := build(t, s, a, grown, tr)
	if len(ch.Written) != 1 || len(ch.Allocated) != 0 {
		t.Fatalf("tail append at depth 3: %+v", ch)
	}
	build(t, s, a, maps[:10], tr)
}

// FuzzEdits runs edit sequences chosen by the fuzzer through Build and
// Read on both block sizes.
func FuzzEdits(f *testing.F) {
	for _, seed := range []int64{1, 2, 3} {
		f.Add(seed, uint16(100), uint8(10))
	}
	f.Fuzz(func(t *testing.T, seed int64, n uint16, steps uint8) {
		r := rand.New(rand.NewSource(seed))
		for _, bs := range []int{1024, 4096} {
			per := BlockMax(bs)
			s, a := newMemStore(bs), newMemAlloc(1<<20)
			maps := sparseMaps(int(n) % (8 * per))
			tr, _ := build(t, s, a, maps, nil)
			for range steps % 32 {
				maps = randomEdit(r, maps, per)
				tr, _ = build(t, s, a, maps, tr)
				if wouldRebuild(tr.Entries, rootEntries(tr), per) || len(a.inUse) != len(tr.Nodes) {
					t.Fatalf("bs %d: entries %v, %d in use for %d nodes", bs, tr.Entries, len(a.inUse), len(tr.Nodes))
				}
			}
		}
	})
}
