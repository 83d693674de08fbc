package extent

import "fmt"

// shape is the number of nodes at each eh_depth below the root that n
// extents need when every node is packed full with per entries: index 0 is
// the leaf count, the last level has at most RootMax nodes so the root can
// index it. Packing full gives the narrowest, shallowest tree, which is what
// e2fsck's "could be narrower/shallower" checks want.
func shape(n, per int) ([]int, error) {
	var counts []int
	for n > RootMax {
		n = (n + per - 1) / per
		counts = append(counts, n)
		if len(counts) > MaxDepth {
			return nil, fmt.Errorf("extent: tree of %d entries per node would exceed depth %d", per, MaxDepth)
		}
	}
	return counts, nil
}

// firsts is the first logical block under every node, per level.
func firsts(ext []Mapping, counts []int, per int) [][]uint32 {
	out := make([][]uint32, len(counts))
	for d, c := range counts {
		out[d] = make([]uint32, c)
		for j := range c {
			if d == 0 {
				out[d][j] = ext[j*per].Logical
			} else {
				out[d][j] = out[d-1][j*per]
			}
		}
	}
	return out
}

// children is the range of level d-1 nodes under node j of level d (or
// under the root when j < 0).
func children(counts []int, per, d, j int) (lo, hi int) {
	if j < 0 {
		return 0, counts[d-1]
	}
	return j * per, min((j+1)*per, counts[d-1])
}

// preorder lists the node blocks of levels in tree (depth-first) order.
func preorder(levels [][]uint64, per int) []uint64 {
	counts := make([]int, len(levels))
	for d := range levels {
		counts[d] = len(levels[d])
	}
	out := make([]uint64, 0, len(levels)*RootMax)
	var walk func(d, j int)
	walk = func(d, j int) {
		out = append(out, levels[d][j])
		if d == 0 {
			return
		}
		lo, hi := children(counts, per, d, j)
		for c := lo; c < hi; c++ {
			walk(d-1, c)
		}
	}
	if n := len(levels); n > 0 {
		for j := range levels[n-1] {
			walk(n-1, j)
		}
	}
	return out
}

// assignment is which block every planned node goes to.
type assignment struct {
	levels    [][]uint64      // block per node, by eh_depth then position
	oldNode   map[uint64]bool // blocks that held a node of the old tree
	allocated []uint64        // blocks taken from the Allocator
	surplus   []uint64        // old node blocks the new tree does not use
}

// assign gives every node of the new shape a block: the old tree's node at
// the same level and position when there is one (so an unchanged prefix of
// the file keeps its node blocks), then the old tree's other nodes in tree
// order, then fresh blocks from a, asked for near the last placed node or,
// with none placed, near the node's first data block. On error every block
// taken from a is given back.
func assign(counts []int, old *Tree, ext []Mapping, per int, a Allocator, opt Options) (*assignment, error) {
	as := &assignment{levels: make([][]uint64, len(counts)), oldNode: map[uint64]bool{}}
	used := map[uint64]bool{}
	if old != nil {
		for _, b := range old.Nodes {
			as.oldNode[b] = true
		}
	}
	for d, c := range counts {
		as.levels[d] = make([]uint64, c)
		for j := range c {
			if old != nil && d < len(old.Levels) && j < len(old.Levels[d]) && !used[old.Levels[d][j]] {
				as.levels[d][j] = old.Levels[d][j]
				used[old.Levels[d][j]] = true
			}
		}
	}
	var pool []uint64
	if old != nil {
		for _, b := range old.Nodes {
			if !used[b] {
				pool = append(pool, b)
			}
		}
	}
	last := uint64(0)
	for d, c := range counts {
		for j := range c {
			if as.levels[d][j] != 0 {
				last = as.levels[d][j]
				continue
			}
			if len(pool) > 0 {
				as.levels[d][j], pool = pool[0], pool[1:]
				used[as.levels[d][j]] = true
				last = as.levels[d][j]
				continue
			}
			goal := last + 1
			if last == 0 {
				goal = ext[firstExtent(d, j, per)].Physical
			}
			b, err := a.AllocBlock(goal)
			if err == nil && (b < opt.FirstDataBlock || b >= opt.BlocksCount || used[b]) {
				err = fmt.Errorf("allocator returned block %d, outside [%d, %d) or already a node", b, opt.FirstDataBlock, opt.BlocksCount)
				as.allocated = append(as.allocated, b)
			}
			if err != nil {
				for _, x := range as.allocated {
					_ = a.FreeBlock(x) // best effort: the first error is the one to report
				}
				return nil, fmt.Errorf("ext4: inode %d: allocate extent node block near %d: %w", opt.Ino, goal, err)
			}
			as.levels[d][j] = b
			as.allocated = append(as.allocated, b)
			used[b] = true
			last = b
		}
	}
	as.surplus = pool
	return as, nil
}

// firstExtent is the index of the first extent under node j of level d.
func firstExtent(d, j, per int) int {
	for range d + 1 {
		j *= per
	}
	return j
}
