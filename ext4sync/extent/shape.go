package extent

import "fmt"

// item is one entry of a planned node: an extent at the leaf level, or an
// index entry (first logical block of the child, child block) above it.
type item struct {
	logical uint32
	phys    uint64
	len     uint32
	uninit  bool
}

func leafItems(ext []Mapping) []item {
	out := make([]item, len(ext))
	for i, m := range ext {
		out[i] = item{logical: m.Logical, phys: m.Physical, len: m.Len, uninit: m.Uninit}
	}
	return out
}

// group is one planned node: n items from start, and the old node whose
// entries it repeats unchanged (-1 for none).
type group struct {
	start, n int
	keep     int
}

// packing says how much of the old tree's node shape a new shape keeps.
type packing int

const (
	keepAll     packing = iota // keep every old node whose entries recur unchanged
	keepCascade                // as keepAll, but a change that overflows a node spills into the next ones until a node boundary lines up
	keepPrefix                 // keep unchanged old nodes only before the first change
	keepNone                   // pack every node full
)

// partition cuts items into nodes of at most per entries. Old nodes whose
// entries recur unchanged (and in order) are kept whole, as the packing
// allows; the items between them are packed full. With keepCascade a run of
// changed items swallows the following old nodes until it fills its last
// node (or leaves one free slot, as libext2fs does), so one extent too many
// in a full node does not leave a nearly empty node behind.
func partition(items []item, old [][]item, per int, mode packing) []group {
	byFirst := map[item]int{}
	if mode != keepNone {
		for g, o := range old {
			if len(o) > 0 && len(o) <= per {
				byFirst[o[0]] = g
			}
		}
	}
	match := func(i int) int {
		g, ok := byFirst[items[i]]
		if !ok || i+len(old[g]) > len(items) {
			return -1
		}
		for k, it := range old[g] {
			if items[i+k] != it {
				return -1
			}
		}
		return g
	}
	var out []group
	changed := false
	for i := 0; i < len(items); {
		if !(changed && mode == keepPrefix) {
			if g := match(i); g >= 0 {
				out = append(out, group{start: i, n: len(old[g]), keep: g})
				i += len(old[g])
				continue
			}
		}
		changed = true
		// A loose run reaches the next kept node (or the end).
		j := i + 1
		for j < len(items) {
			g := -1
			if mode != keepPrefix {
				g = match(j)
			}
			if g < 0 {
				j++
				continue
			}
			if r := (j - i) % per; mode == keepCascade && r != 0 && r != per-1 {
				j += len(old[g]) // spill into the next node rather than leave a gap
				continue
			}
			break
		}
		// A run that would end in a part-filled node goes into the kept
		// node before it when that has room: rewriting that node beats a
		// new, nearly empty one (an append fills the last leaf first).
		if k, r := len(out)-1, (j-i)%per; r != 0 && k >= 0 && out[k].keep >= 0 && out[k].n+r <= per {
			i = out[k].start
			out = out[:k]
		}
		for ; i < j; i += per {
			out = append(out, group{start: i, n: min(per, j-i), keep: -1})
		}
		i = j
	}
	return out
}

// wouldRebuild applies e2fsck_should_rebuild_extents to a planned tree:
// counts[d] holds the entry count of every node at eh_depth d, and the root
// holds rootEntries. e2fsck offers to rebuild a tree when some level's spare
// room exceeds a block's worth of entries (it could be narrower) or a level
// holds fewer entries than a shallower level could (it could be shorter).
// Like e2fsck, it counts a non-root node that is not full as one entry
// smaller, because libext2fs leaves a free slot when it splits on append.
func wouldRebuild(counts [][]int, rootEntries, per int) bool {
	depth := len(counts)
	num := make([]int, depth+1) // by e2fsck level: 0 is the root
	room := make([]int, depth+1)
	num[0], room[0] = rootEntries, RootMax
	for d, nodes := range counts {
		lv := depth - d
		for _, n := range nodes {
			num[lv] += n
			room[lv] += per
			if n < per {
				room[lv]--
			}
		}
	}
	for i := 0; i <= depth; i++ {
		if room[i]-num[i] > per {
			return true
		}
		for j := 0; j < i; j++ {
			if num[i] < room[j] {
				return true
			}
		}
	}
	return false
}

// oldLevels splits the old tree's entries per node, level by level, in the
// item form partition compares against. It returns nil when old's node lists
// do not add up (a tree not made by Read or Build), and then nothing is kept.
func oldLevels(old *Tree) [][][]item {
	if old == nil || len(old.Entries) != len(old.Levels) || old.Depth != len(old.Levels) {
		return nil
	}
	out := make([][][]item, len(old.Levels))
	items := leafItems(old.Mappings)
	for d := range old.Levels {
		if len(old.Entries[d]) != len(old.Levels[d]) {
			return nil
		}
		next := make([]item, 0, len(old.Levels[d]))
		at := 0
		for j, n := range old.Entries[d] {
			if n <= 0 || at+n > len(items) {
				return nil
			}
			out[d] = append(out[d], items[at:at+n])
			next = append(next, item{logical: items[at].logical, phys: old.Levels[d][j]})
			at += n
		}
		if at != len(items) {
			return nil
		}
		items = next
	}
	return out
}

// shape is a planned tree: for each eh_depth the node groups and blocks.
// Blocks not yet allocated hold placeholders at or above placeholderBase.
type shape struct {
	groups [][]group
	blocks [][]uint64
	root   int // entries in the root
}

// placeholderBase marks a node block still to be allocated; real blocks are
// below MaxPhysical.
const placeholderBase = MaxPhysical

// shapeOf lays the tree out level by level with the given packing. Kept nodes
// stay in their old blocks; other nodes take the old blocks of their level
// that no kept node holds, in order, then leftovers of lower levels, then
// any other old node, then placeholders for blocks to allocate.
func shapeOf(ext []Mapping, old *Tree, olds [][][]item, per int, mode packing) (*shape, error) {
	sh := &shape{}
	items := leafItems(ext)
	var spare []uint64
	next := uint64(placeholderBase)
	for d := 0; len(items) > RootMax; d++ {
		if d >= MaxDepth {
			return nil, fmt.Errorf("tree would exceed depth %d", MaxDepth)
		}
		var oldGroups [][]item
		var oldBlocks []uint64
		if d < len(olds) {
			oldGroups, oldBlocks = olds[d], old.Levels[d]
		}
		groups := partition(items, oldGroups, per, mode)
		kept := map[uint64]bool{}
		for _, g := range groups {
			if g.keep >= 0 {
				kept[oldBlocks[g.keep]] = true
			}
		}
		var pool []uint64
		for _, b := range oldBlocks {
			if !kept[b] {
				pool = append(pool, b)
			}
		}
		pool = append(pool, spare...)
		blocks := make([]uint64, len(groups))
		nextItems := make([]item, len(groups))
		for j, g := range groups {
			switch {
			case g.keep >= 0:
				blocks[j] = oldBlocks[g.keep]
			case len(pool) > 0:
				blocks[j], pool = pool[0], pool[1:]
			default:
				blocks[j] = next
				next++
			}
			nextItems[j] = item{logical: items[g.start].logical, phys: blocks[j]}
		}
		spare = pool
		sh.groups = append(sh.groups, groups)
		sh.blocks = append(sh.blocks, blocks)
		items = nextItems
	}
	sh.root = len(items)
	// Old nodes no level took (those of levels the tree no longer has) stand
	// in for blocks still to allocate, before any is freed.
	if old != nil {
		placed := map[uint64]bool{}
		for _, bs := range sh.blocks {
			for _, b := range bs {
				placed[b] = true
			}
		}
		var left []uint64
		for _, b := range old.Nodes {
			if !placed[b] {
				left = append(left, b)
			}
		}
		for _, bs := range sh.blocks {
			for j := range bs {
				if bs[j] >= placeholderBase && len(left) > 0 {
					bs[j], left = left[0], left[1:]
				}
			}
		}
	}
	return sh, nil
}

// counts is the entry count of every planned node, by eh_depth.
func (l *shape) counts() [][]int {
	out := make([][]int, len(l.groups))
	for d, gs := range l.groups {
		for _, g := range gs {
			out[d] = append(out[d], g.n)
		}
	}
	return out
}
