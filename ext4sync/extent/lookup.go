package extent

import (
	"iter"
	"sort"
)

// Lookup finds the physical block that holds logical block lblk. ok is false
// for a hole.
func (t *Tree) Lookup(lblk uint32) (phys uint64, uninit, ok bool) {
	return Lookup(t.Mappings, lblk)
}

// Lookup finds logical block lblk in maps, which must be sorted by Logical
// and non-overlapping (as Read returns them).
func Lookup(maps []Mapping, lblk uint32) (phys uint64, uninit, ok bool) {
	i := sort.Search(len(maps), func(i int) bool { return maps[i].End() > uint64(lblk) })
	if i == len(maps) || maps[i].Logical > lblk {
		return 0, false, false
	}
	m := maps[i]
	return m.Physical + uint64(lblk-m.Logical), m.Uninit, true
}

// Range yields the mapped runs that intersect logical blocks
// [from, from+count), clipped to that window, in logical order.
func (t *Tree) Range(from, count uint32) iter.Seq[Mapping] {
	return Range(t.Mappings, from, count)
}

// Range is Tree.Range over a sorted, non-overlapping mapping list.
func Range(maps []Mapping, from, count uint32) iter.Seq[Mapping] {
	return func(yield func(Mapping) bool) {
		lo, hi := uint64(from), uint64(from)+uint64(count)
		i := sort.Search(len(maps), func(i int) bool { return maps[i].End() > lo })
		for ; i < len(maps) && uint64(maps[i].Logical) < hi; i++ {
			m := maps[i]
			s, e := max(uint64(m.Logical), lo), min(m.End(), hi)
			c := Mapping{Logical: uint32(s), Physical: m.Physical + (s - uint64(m.Logical)), Len: uint32(e - s), Uninit: m.Uninit}
			if !yield(c) {
				return
			}
		}
	}
}

// MappedBlocks is the number of blocks the mappings cover.
func MappedBlocks(maps []Mapping) uint64 {
	var n uint64
	for _, m := range maps {
		n += uint64(m.Len)
	}
	return n
}
