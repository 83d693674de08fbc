package file

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Change describes, for a Placement's Rewriter, what writing new content
// with block digests blocks (only the blocks with data are visited) into
// this file in place would do: the mapped
// blocks whose bytes would differ (uninitialized ones always do), the
// blocks it would have to allocate, and the blocks the content needs in
// all. When same is not nil it says which blocks hold the new bytes
// already (Comparer.Compare of this inode); otherwise the mapped blocks
// are read and their digests compared. It changes nothing.
func (i *Inode) Change(blocks tree.Digests, same Same) (fs.FileChange, error) {
	c := fs.FileChange{Ino: i.ino}
	if i.kind != tree.Regular {
		return c, kindf(i.ino, "describe a content change", i.kind)
	}
	var old *oldRuns
	defer func() { old.release() }()
	err := blocks.Each(func(lb int64, d uint64) error {
		c.Blocks++
		phys, uninit, ok := i.lookup(uint32(lb))
		switch {
		case !ok:
			c.Grow++
			return nil
		case uninit:
			c.Differs = append(c.Differs, phys)
			return nil
		case same != nil:
			if !same.Has(lb) {
				c.Differs = append(c.Differs, phys)
			}
			return nil
		}
		if old == nil {
			old = newOldRuns(i)
		}
		b, err := old.block(uint32(lb), phys)
		if err != nil {
			return wrapf(i.ino, fmt.Sprintf("read data block %d", phys), err)
		}
		if tree.BlockDigest(b) != d {
			c.Differs = append(c.Differs, phys)
		}
		return nil
	})
	return c, err
}
