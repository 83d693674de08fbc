package file

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Free releases the inode and everything it owns: data blocks, extent-tree
// nodes and its reference to the xattr block (freeing it when this was the
// last). The inode is written with links 0, size 0, no blocks and dtime set
// (see deletionTime), then marked free. The Inode must not be used
// afterwards.
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
	i.raw.Dtime = i.deletionTime()
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

// deletionTime is the dtime a freed inode gets: SOURCE_DATE_EPOCH when
// set, else the inode's mtime, as 32 bits (dtime has no high bits), but
// never below s_inodes_count. e2fsck reads a dtime below the inode count
// as a link of the orphan list and reports the inode as part of a
// corrupted one (e2fsprogs' ext2fs_set_dtime raises it the same way), and
// a dtime of 0 would not mark the inode deleted at all.
func (i *Inode) deletionTime() uint32 {
	sec, _ := i.raw.MtimeNs()
	if i.opts.SourceDateEpoch != nil {
		sec = *i.opts.SourceDateEpoch
	}
	t := uint32(sec)
	if n := i.fs.InodesCount(); t < n {
		t = n
	}
	return t
}
