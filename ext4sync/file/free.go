package file

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// minDtime is the dtime of an inode freed with no other time to record:
// any non-zero value marks it deleted.
const minDtime = 1

// Free releases the inode and everything it owns: data blocks, extent-tree
// nodes and its reference to the xattr block (freeing it when this was the
// last). The inode is written with links 0, size 0, no blocks and dtime set
// (SOURCE_DATE_EPOCH when set, else its mtime, at least 1), then marked
// free. The Inode must not be used afterwards.
func (i *Inode) Free() error {
	if i.raw.Flags.Has(disk.FlagExtents) && i.ext != nil {
		if err := i.dropData(); err != nil {
			return err
		}
	}
	if blk := i.raw.FileACL(); blk != 0 {
		_, h, err := i.readXattrBlock()
		if err != nil {
			return err
		}
		if err := i.releaseXattrBlock(blk, h.Refcount); err != nil {
			return err
		}
		i.raw.SetFileACL(0)
	}
	i.raw.LinksCount = 0
	i.raw.SetSize(0)
	i.raw.SetSectors(0)
	dtime := i.raw.Mtime
	if i.opts.SourceDateEpoch != nil {
		dtime, _ = disk.EncodeTime(*i.opts.SourceDateEpoch, 0)
	}
	if dtime == 0 {
		dtime = minDtime
	}
	i.raw.Dtime = dtime
	i.dir = nil
	i.dirty = false
	if err := i.fs.WriteInode(i.ino, i.raw); err != nil {
		return wrapf(i.ino, "write freed inode", err)
	}
	if err := i.fs.FreeInode(i.ino, i.kind == tree.Dir); err != nil {
		return wrapf(i.ino, "free inode", err)
	}
	return nil
}
