package extent

import (
	"errors"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const testBlocks = 1 << 40

func testOpt() Options {
	return Options{Ino: 12, Csum: true, Seed: 0x1234abcd, FirstDataBlock: 1, BlocksCount: testBlocks}
}

// randomMaps makes n runs with holes and physical jumps so none merge, plus
// some runs that are adjacent to their predecessor (to exercise merging).
func randomMaps(r *rand.Rand, n int) []Mapping {
	var out []Mapping
	l, p := uint32(r.Intn(10)), uint64(1000+r.Intn(1000))
	for range n {
		m := Mapping{Logical: l, Physical: p, Len: uint32(1 + r.Intn(20)), Uninit: r.Intn(8) == 0}
		out = append(out, m)
		l += m.Len
		p += uint64(m.Len)
		if r.Intn(4) != 0 {
			l += uint32(r.Intn(3))
			p += uint64(1 + r.Intn(50))
		}
	}
	return out
}

func minDepth(n, per int) int {
	d := 0
	for n > RootMax {
		n = (n + per - 1) / per
		d++
	}
	return d
}

func rootEntries(t *Tree) int { return int(DecodeHeader(t.Root[:]).Entries) }

// sparseMaps is n one-block runs that cannot merge.
func sparseMaps(n int) []Mapping {
	out := make([]Mapping, n)
	for i := range out {
		out[i] = Mapping{Logical: uint32(2 * i), Physical: uint64(5000 + 3*i), Len: 1}
	}
	return out
}

func build(t *testing.T, s *memStore, a *memAlloc, maps []Mapping, old *Tree) (*Tree, *Changes) {
	t.Helper()
	tr, ch, err := Build(maps, old, s, a, testOpt())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	back, err := Read(tr.Root[:], s, testOpt())
	if err != nil {
		t.Fatalf("Read after Build: %v", err)
	}
	want, err := Normalize(maps, testOpt())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Mappings, want) || !slices.Equal(tr.Mappings, want) {
		t.Fatalf("mappings differ after round trip: got %d, want %d extents", len(back.Mappings), len(want))
	}
	if !slices.Equal(back.Nodes, tr.Nodes) || !reflect.DeepEqual(back.Levels, tr.Levels) || back.Depth != tr.Depth {
		t.Fatalf("node lists differ: read %v, built %v", back.Nodes, tr.Nodes)
	}
	for _, b := range tr.Nodes {
		if !a.inUse[b] {
			t.Fatalf("node block %d is not allocated", b)
		}
	}
	return tr, ch
}

func TestRoundTripRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(1))
	for _, bs := range []int{1024, 4096} {
		per := BlockMax(bs)
		for _, n := range []int{0, 1, 4, 5, per, per + 1, 4 * per, 4*per + 1, 2000} {
			s, a := newMemStore(bs), newMemAlloc(1<<20)
			maps := randomMaps(r, n)
			tr, _ := build(t, s, a, maps, nil)
			if want := minDepth(len(tr.Mappings), per); tr.Depth != want {
				t.Fatalf("bs %d n %d: depth %d, want %d", bs, n, tr.Depth, want)
			}
			if wouldRebuild(tr.Entries, rootEntries(tr), per) {
				t.Fatalf("bs %d n %d: e2fsck would rebuild %v", bs, n, tr.Entries)
			}
		}
	}
}

func TestDepthTwo(t *testing.T) {
	t.Parallel()
	bs := 1024
	per := BlockMax(bs)
	s, a := newMemStore(bs), newMemAlloc(1<<20)
	maps := sparseMaps(4*per*per/2 + 7)
	tr, _ := build(t, s, a, maps, nil)
	if tr.Depth != 2 {
		t.Fatalf("depth %d, want 2", tr.Depth)
	}
	// Append at the tail: only the last leaf changes.
	grown := append(slices.Clone(maps), Mapping{Logical: 1 << 30, Physical: 9 << 20, Len: 3})
	tr2, ch := build(t, s, a, grown, tr)
	last := tr.Levels[0][len(tr.Levels[0])-1]
	if !slices.Equal(ch.Written, []uint64{last}) || len(ch.Allocated) != 0 || len(ch.Freed) != 0 {
		t.Fatalf("tail append: written %v allocated %v freed %v, want only %d", ch.Written, ch.Allocated, ch.Freed, last)
	}
	if !slices.Equal(tr2.Nodes, tr.Nodes) {
		t.Fatal("tail append moved nodes")
	}
	// Shrink back to depth 0, then grow again: blocks are reused, never leaked.
	tr3, ch := build(t, s, a, maps[:3], tr2)
	if tr3.Depth != 0 || len(ch.Freed) != len(tr2.Nodes) || len(a.inUse) != 0 {
		t.Fatalf("shrink to depth 0: depth %d freed %d of %d, %d still in use", tr3.Depth, len(ch.Freed), len(tr2.Nodes), len(a.inUse))
	}
	build(t, s, a, maps, tr3)
}

func TestReuseAndGrowth(t *testing.T) {
	t.Parallel()
	bs := 4096
	per := BlockMax(bs)
	s, a := newMemStore(bs), newMemAlloc(1<<20)
	ext := sparseMaps(2*per + 10)
	tr, _ := build(t, s, a, ext, nil)
	if tr.Depth != 1 || len(tr.Nodes) != 3 {
		t.Fatalf("depth %d nodes %d, want 1 and 3", tr.Depth, len(tr.Nodes))
	}

	// Same mapping again: nothing written.
	s.writes = nil
	_, ch := build(t, s, a, ext, tr)
	if len(ch.Written)+len(ch.Allocated)+len(ch.Freed)+len(s.writes) != 0 {
		t.Fatalf("re-lay changed blocks: %+v", ch)
	}

	// Truncate into the second leaf: third leaf freed, second rewritten.
	cut := ext[:per+5]
	tr2, ch := build(t, s, a, cut, tr)
	if !slices.Equal(ch.Written, []uint64{tr.Nodes[1]}) || !slices.Equal(ch.Freed, []uint64{tr.Nodes[2]}) {
		t.Fatalf("truncate: %+v, nodes were %v", ch, tr.Nodes)
	}

	// Grow past a full leaf: the new leaf comes from the allocator.
	_, ch = build(t, s, a, ext, tr2)
	if len(ch.Allocated) != 1 || !slices.Equal(ch.Written, []uint64{tr.Nodes[1], ch.Allocated[0]}) {
		t.Fatalf("grow: %+v", ch)
	}
}

func TestGrowDepthKeepsLeaves(t *testing.T) {
	t.Parallel()
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	per := BlockMax(1024)
	maps := sparseMaps(4 * per)
	tr, _ := build(t, s, a, maps, nil)
	more := append(slices.Clone(maps), Mapping{Logical: 1 << 20, Physical: 1 << 19, Len: 1})
	tr2, ch := build(t, s, a, more, tr)
	if tr2.Depth != 2 || !slices.Equal(tr2.Levels[0][:4], tr.Levels[0]) {
		t.Fatalf("depth %d, leaves %v then %v", tr2.Depth, tr.Levels[0], tr2.Levels[0])
	}
	if len(ch.Allocated) != 2 || len(ch.Written) != 2 {
		t.Fatalf("grow depth: %+v, want a new leaf and a new index block", ch)
	}
}

func TestMergeAndSplit(t *testing.T) {
	t.Parallel()
	opt := testOpt()
	in := []Mapping{
		{Logical: 0, Physical: 100, Len: 30000},
		{Logical: 30000, Physical: 30100, Len: 30000},
		{Logical: 60000, Physical: 60100, Len: 5, Uninit: true},
		{Logical: 60005, Physical: 60105, Len: 40000, Uninit: true},
	}
	got, err := Normalize(in, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{Logical: 0, Physical: 100, Len: 32768},
		{Logical: 32768, Physical: 32868, Len: 60000 - 32768},
		{Logical: 60000, Physical: 60100, Len: 32767, Uninit: true},
		{Logical: 92767, Physical: 92867, Len: 40005 - 32767, Uninit: true},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	tr, _ := build(t, s, a, in, nil)
	if l := DecodeLeaf(tr.Root[HeaderSize:]); l.Len != MaxInitLen || l.Uninit() {
		t.Fatalf("first extent len field %d", l.Len)
	}
	if l := DecodeLeaf(tr.Root[HeaderSize+2*EntrySize:]); l.Len != MaxInitLen+MaxUninitLen || !l.Uninit() {
		t.Fatalf("uninit extent len field %d", l.Len)
	}
}

func TestNormalizeRejects(t *testing.T) {
	t.Parallel()
	opt := testOpt()
	bad := [][]Mapping{
		{{Logical: 0, Physical: 10, Len: 0}},
		{{Logical: 5, Physical: 10, Len: 2}, {Logical: 6, Physical: 100, Len: 1}},
		{{Logical: 5, Physical: 10, Len: 2}, {Logical: 1, Physical: 100, Len: 1}},
		{{Logical: 0, Physical: 0, Len: 1}},
		{{Logical: 0, Physical: testBlocks - 1, Len: 2}},
		{{Logical: ^uint32(0), Physical: 10, Len: 2}},
	}
	for i, m := range bad {
		if _, err := Normalize(m, opt); err == nil {
			t.Errorf("case %d: no error", i)
		}
		if _, _, err := Build(m, nil, newMemStore(1024), newMemAlloc(1<<20), opt); err == nil {
			t.Errorf("case %d: Build: no error", i)
		}
	}
}

func TestAllocFailureRollsBack(t *testing.T) {
	t.Parallel()
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	maps := randomMaps(rand.New(rand.NewSource(3)), 500)
	a.fail = true
	if _, _, err := Build(maps, nil, s, a, testOpt()); err == nil {
		t.Fatal("no error")
	}
	if len(s.writes) != 0 || len(a.inUse) != 0 {
		t.Fatalf("failed Build left writes %v, in use %v", s.writes, a.inUse)
	}
}

func TestLookupRange(t *testing.T) {
	t.Parallel()
	maps := []Mapping{{Logical: 10, Physical: 100, Len: 5}, {Logical: 20, Physical: 300, Len: 10, Uninit: true}}
	tr := &Tree{Mappings: maps}
	for _, c := range []struct {
		l     uint32
		p     uint64
		u, ok bool
	}{{9, 0, false, false}, {10, 100, false, true}, {14, 104, false, true}, {15, 0, false, false}, {29, 309, true, true}, {30, 0, false, false}} {
		p, u, ok := tr.Lookup(c.l)
		if p != c.p || u != c.u || ok != c.ok {
			t.Errorf("Lookup(%d) = %d %v %v", c.l, p, u, ok)
		}
	}
	var got []Mapping
	for m := range tr.Range(12, 10) {
		got = append(got, m)
	}
	want := []Mapping{{Logical: 12, Physical: 102, Len: 3}, {Logical: 20, Physical: 300, Len: 2, Uninit: true}}
	if !slices.Equal(got, want) {
		t.Fatalf("Range = %+v", got)
	}
	if MappedBlocks(maps) != 15 {
		t.Fatal("MappedBlocks")
	}
}

type failWrites struct{ *memStore }

func (failWrites) WriteBlock(uint64, []byte) error { return errors.New("read-only") }

func TestWriteFailureGivesBlocksBack(t *testing.T) {
	t.Parallel()
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	if _, _, err := Build(sparseMaps(500), nil, failWrites{s}, a, testOpt()); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("err = %v", err)
	}
	if len(a.inUse) != 0 {
		t.Fatalf("blocks still in use: %v", a.inUse)
	}
	if _, _, err := Build(nil, nil, &memStore{bs: 1000}, a, testOpt()); err == nil {
		t.Fatal("block size 1000 accepted")
	}
}

func TestNodeBlockMappedAsData(t *testing.T) {
	t.Parallel()
	s, a := newMemStore(1024), newMemAlloc(6000)
	maps := sparseMaps(200) // data at 5000, 5003, ... 5597; nodes from 6000
	maps = append(maps, Mapping{Logical: 1000, Physical: 6001, Len: 1})
	if _, _, err := Build(maps, nil, s, a, testOpt()); err == nil || !strings.Contains(err.Error(), "also data block") {
		t.Fatalf("err = %v", err)
	}
	if len(a.inUse) != 0 || len(s.writes) != 0 {
		t.Fatalf("failed Build left %d blocks in use, %d writes", len(a.inUse), len(s.writes))
	}
}
