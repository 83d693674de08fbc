package ext4sync

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// A renamed file (or every file of a renamed directory) is, to the plan,
// an old inode freed and a new one created: its whole content would be
// written again into new blocks. When a freed regular file and a new one
// look like the same file (same size and mtime, to the nanosecond), the
// sync gives the new path the old inode instead: its blocks stay where
// they are, and the content pass compares them block by block like any
// kept file's, so a pure rename writes no data at all. A wrong guess only
// costs what a plain create would have.

// renameKey identifies a regular file by what a rename keeps.
type renameKey struct {
	size  int64
	mtime tree.Time
}

// pairRenames picks, for new regular-file inodes of the plan, a freed
// regular-file inode of the image to reuse. Pairs are made in plan order
// (new inodes by first path, freed ones in removal order), so the result
// is deterministic. It returns the old inode by new-inode index, and the
// set of old inodes that are reused rather than freed.
func pairRenames(p *plan.Plan, old plan.Old) (map[int]uint32, map[uint32]bool) {
	freed := make(map[renameKey][]uint32)
	for _, rm := range p.Remove {
		if !rm.Free || rm.Kind != tree.Regular {
			continue
		}
		n := old.Tree.Lookup(rm.Path)
		if n == nil || n.Kind != tree.Regular || n.Size == 0 {
			continue
		}
		k := renameKey{n.Size, n.Mtime}
		freed[k] = append(freed[k], rm.Inode)
	}
	if len(freed) == 0 {
		return nil, nil
	}
	byNew := make(map[int]uint32)
	reused := make(map[uint32]bool)
	for i := range p.Inodes {
		in := &p.Inodes[i]
		idx, isNew := in.Ref.NewIndex()
		if !isNew || in.Kind != tree.Regular || in.Node.Size == 0 {
			continue
		}
		k := renameKey{in.Node.Size, in.Node.Mtime}
		cands := freed[k]
		if len(cands) == 0 {
			continue
		}
		byNew[idx] = cands[0]
		reused[cands[0]] = true
		freed[k] = cands[1:]
	}
	return byNew, reused
}
