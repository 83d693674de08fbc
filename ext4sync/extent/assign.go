package extent

import "fmt"

// allocate replaces the shape's placeholders with blocks from a, level by
// level and left to right, asking for each near the node before it on its
// level or, for the first, near the node's first data block. On error the
// blocks already taken are given back.
func allocate(sh *shape, ext []Mapping, a Allocator, opt Options) ([]uint64, error) {
	used := map[uint64]bool{}
	for _, bs := range sh.blocks {
		for _, b := range bs {
			used[b] = true
		}
	}
	first := sh.firstExtents()
	var got []uint64
	for d, bs := range sh.blocks {
		for j, b := range bs {
			if b < placeholderBase {
				continue
			}
			goal := ext[first[d][j]].Physical
			if j > 0 && bs[j-1] < placeholderBase {
				goal = bs[j-1] + 1
			}
			nb, err := a.AllocBlock(goal)
			if err == nil && (nb < opt.FirstDataBlock || nb >= opt.BlocksCount || used[nb]) {
				got = append(got, nb)
				err = fmt.Errorf("allocator returned block %d, outside [%d, %d) or already a node", nb, opt.FirstDataBlock, opt.BlocksCount)
			}
			if err != nil {
				for _, x := range got {
					_ = a.FreeBlock(x) // best effort: the first error is the one to report
				}
				return nil, fmt.Errorf("ext4: inode %d: allocate extent node block near %d: %w", opt.Ino, goal, err)
			}
			bs[j] = nb
			used[nb] = true
			got = append(got, nb)
		}
	}
	return got, nil
}

// firstExtents is, for every planned node, the index in ext of the first
// extent under it.
func (l *shape) firstExtents() [][]int {
	out := make([][]int, len(l.groups))
	for d, gs := range l.groups {
		out[d] = make([]int, len(gs))
		for j, g := range gs {
			if d == 0 {
				out[d][j] = g.start
			} else {
				out[d][j] = out[d-1][g.start]
			}
		}
	}
	return out
}

// preorder lists node blocks in tree (depth-first) order; entries[d][j] is
// the number of children of node j at eh_depth d.
func preorder(levels [][]uint64, entries [][]int) []uint64 {
	var out []uint64
	starts := make([][]int, len(levels))
	for d := range levels {
		at := 0
		for _, n := range entries[d] {
			starts[d] = append(starts[d], at)
			at += n
		}
	}
	var walk func(d, j int)
	walk = func(d, j int) {
		out = append(out, levels[d][j])
		if d == 0 {
			return
		}
		for c := starts[d][j]; c < starts[d][j]+entries[d][j] && c < len(levels[d-1]); c++ {
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
