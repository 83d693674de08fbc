package file

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// permMask is the part of i_mode a tree.Node carries.
const permMask = disk.ModePermMask

// Node returns the inode's metadata as a tree.Node with Path and LinkID left
// empty: Kind, Mode (07777), UID, GID, Mtime, Size and Data (regular
// files), Target (symlinks), Major/Minor (devices) and Xattrs (VFS names
// and encodings, sorted by name).
func (i *Inode) Node() (*tree.Node, error) {
	n := &tree.Node{
		Kind: i.kind,
		Mode: uint32(i.raw.Mode & permMask),
		UID:  i.raw.UID(),
		GID:  i.raw.GID(),
	}
	n.Mtime.Sec, n.Mtime.Nsec = disk.DecodeTime(i.raw.Mtime, i.raw.MtimeExtra)
	switch i.kind {
	case tree.Regular:
		n.Size = i.Size()
		n.Data = i.DataSegments()
	case tree.Symlink:
		t, err := i.Target()
		if err != nil {
			return nil, err
		}
		n.Target = t
	case tree.CharDev, tree.BlockDev:
		n.Major, n.Minor = i.Rdev()
	}
	x, err := i.Xattrs()
	if err != nil {
		return nil, err
	}
	n.Xattrs = x
	return n, nil
}

// SetMeta sets the permission bits, owner, group and mtime from n. It
// reports whether any of them changed; when one did, the inode is marked
// changed and Save stamps its other times per Options. An inode whose
// metadata already matches is left untouched, old atime/ctime included.
func (i *Inode) SetMeta(n *tree.Node) bool {
	mode := i.raw.Mode&disk.ModeTypeMask | uint16(n.Mode)&permMask
	mt, mtx := i.encodeTime(n.Mtime, offMtimeExtra)
	changed := mode != i.raw.Mode || n.UID != i.raw.UID() || n.GID != i.raw.GID() ||
		mt != i.raw.Mtime || mtx != i.raw.MtimeExtra
	if !changed {
		return false
	}
	i.raw.Mode = mode
	i.raw.SetUID(n.UID)
	i.raw.SetGID(n.GID)
	i.raw.Mtime, i.raw.MtimeExtra = mt, mtx
	i.dirty = true
	return true
}

// Offsets of the extra time fields, for checking i_extra_isize covers them.
const (
	offCtimeExtra  = 0x84
	offMtimeExtra  = 0x88
	offAtimeExtra  = 0x8C
	offCrtime      = 0x90
	offCrtimeExtra = 0x94
	extraFieldSize = 4
)

// coversExtra reports whether the inode's i_extra_isize covers the 4-byte
// extra field at off.
func (i *Inode) coversExtra(off int) bool {
	return disk.GoodOldInodeSize+int(i.raw.ExtraIsize) >= off+extraFieldSize
}

// encodeTime is t as the inode stores it in the field whose extra half
// is at extraOff: clamped and truncated as the kernel does
// (disk.TruncateTime) when the inode has no room for that extra half,
// whose value is then 0. A 128-byte inode thus holds 2100-01-01 as
// 2038-01-19 03:14:07, never as the wrapped 1963-11-25.
func (i *Inode) encodeTime(t tree.Time, extraOff int) (base, extra uint32) {
	hasExtra := i.coversExtra(extraOff)
	sec, nsec := disk.TruncateTime(t.Sec, t.Nsec, hasExtra)
	base, extra = disk.EncodeTime(sec, nsec)
	if !hasExtra {
		extra = 0
	}
	return base, extra
}

// stampTime is the time the other timestamps of a written inode get:
// SOURCE_DATE_EPOCH when set, else the inode's mtime.
func (i *Inode) stampTime() tree.Time {
	if i.opts.SourceDateEpoch != nil {
		return tree.Time{Sec: *i.opts.SourceDateEpoch}
	}
	var t tree.Time
	t.Sec, t.Nsec = disk.DecodeTime(i.raw.Mtime, i.raw.MtimeExtra)
	if !i.coversExtra(offMtimeExtra) {
		t.Sec, t.Nsec = int64(int32(i.raw.Mtime)), 0
	}
	return t
}

// stampTimes sets atime, ctime and crtime of a written inode.
func (i *Inode) stampTimes() {
	t := i.stampTime()
	i.raw.Atime, i.raw.AtimeExtra = i.encodeTime(t, offAtimeExtra)
	i.raw.Ctime, i.raw.CtimeExtra = i.encodeTime(t, offCtimeExtra)
	if i.coversExtra(offCrtime) {
		i.raw.Crtime, i.raw.CrtimeExtra = i.encodeTime(t, offCrtimeExtra)
	}
}
