package fs

import (
	"bytes"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// extraIsizeDefault is the i_extra_isize that covers every extra field
// through i_projid (0x80..0xA0).
const extraIsizeDefault = 32

// inodeUnused reports whether ino lies in the part of its group's table
// that has never been used (INODE_UNINIT or past bg_itable_unused), whose
// bytes are undefined.
func (f *FS) inodeUnused(ino uint32) bool {
	if !f.sb.HasGroupDescCsum() {
		return false
	}
	g, i := f.geo.GroupOfInode(ino)
	return f.groupFlag(g, disk.BgInodeUninit) || i >= f.geo.InodesPerGroup-f.gds[g].ItableUnused()
}

func (f *FS) checkIno(ino uint32) error {
	if ino == 0 || ino > f.geo.InodesCount {
		return invalidf("inode %d: out of range 1..%d", ino, f.geo.InodesCount)
	}
	return nil
}

// ReadInode reads inode ino, verifying its checksum. An inode in the
// never-used part of a table reads as all zeros.
func (f *FS) ReadInode(ino uint32) (*disk.Inode, error) {
	if err := f.checkIno(ino); err != nil {
		return nil, err
	}
	raw := make([]byte, f.geo.InodeSize)
	blk, off := f.layout.InodeBlock(ino)
	if !f.inodeUnused(ino) {
		if err := f.readInodeRaw(raw, blk, off); err != nil {
			return nil, wrapf(err, "inode %d in block %d", ino, blk)
		}
	}
	in := new(disk.Inode)
	if isZero(raw) {
		if err := in.Unmarshal(raw); err != nil {
			return nil, corruptf("inode %d in block %d: %s", ino, blk, detail(err))
		}
		return in, nil
	}
	if err := in.Unmarshal(raw); err != nil {
		return nil, corruptf("inode %d in block %d: %s", ino, blk, detail(err))
	}
	if f.sb.HasMetadataCsum() {
		seed := f.InodeSeed(ino, in.Generation)
		if !disk.VerifyInodeChecksum(seed, raw) {
			return nil, corruptf("inode %d in block %d: checksum mismatch (stored %#04x/%#04x, computed %#08x)",
				ino, blk, in.ChecksumLo, in.ChecksumHi, disk.InodeChecksum(seed, raw))
		}
	}
	return in, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// WriteInode writes in as inode ino with a fresh checksum (which it also
// stores in in). Writing bytes equal to those on disk does nothing. The
// inode must be in the used part of its group's table (AllocInode extends
// it).
func (f *FS) WriteInode(ino uint32, in *disk.Inode) error {
	if err := f.checkIno(ino); err != nil {
		return err
	}
	if f.inodeUnused(ino) {
		return invalidf("write inode %d: not allocated (beyond its group's used inode table)", ino)
	}
	raw := make([]byte, f.geo.InodeSize)
	var err error
	if f.sb.HasMetadataCsum() {
		err = in.SetChecksum(f.InodeSeed(ino, in.Generation), raw)
	} else {
		err = in.Marshal(raw)
	}
	blk, off := f.layout.InodeBlock(ino)
	if err != nil {
		return invalidf("write inode %d: %s", ino, detail(err))
	}
	pos := int64(blk)*int64(f.geo.BlockSize) + int64(off)
	old := make([]byte, len(raw))
	if err := f.readAt(old, pos); err == nil && bytes.Equal(old, raw) {
		return nil
	}
	defer f.dropInodeBlocks()
	if _, err := f.dev.WriteAt(raw, pos); err != nil {
		return fmt.Errorf("ext4: write inode %d in block %d: %w", ino, blk, err)
	}
	return nil
}

// NewInode returns a blank inode sized for this filesystem: i_extra_isize
// set (s_want_extra_isize, else 32, and at least s_min_extra_isize under
// extra_isize) and the in-inode xattr area zeroed.
func (f *FS) NewInode() *disk.Inode {
	in := new(disk.Inode)
	isz := int(f.geo.InodeSize)
	if isz > disk.GoodOldInodeSize {
		extra := int(f.sb.WantExtraIsize)
		if extra == 0 || extra%4 != 0 {
			extra = extraIsizeDefault
		}
		// Under extra_isize every inode has at least s_min_extra_isize.
		if m := int(f.sb.MinExtraIsize); f.sb.FeatureRoCompat.Has(disk.RoCompatExtraIsize) && m%4 == 0 && extra < m {
			extra = m
		}
		extra = min(extra, isz-disk.GoodOldInodeSize)
		in.ExtraIsize = uint16(extra)
		in.Tail = make([]byte, isz-disk.GoodOldInodeSize-extra)
	}
	return in
}

// exposeInodes is called before inode index i of group g is allocated: if
// i lies past the group's used table, it lowers bg_itable_unused to cover
// it and, unless the table is known zeroed, zeroes the slots from the old
// end through i so e2fsck finds no stale inodes there (it checks every
// inode below the used mark, in use or not).
func (f *FS) exposeInodes(g, i uint32) error {
	if !f.sb.HasGroupDescCsum() {
		return nil
	}
	gd := &f.gds[g]
	used := f.geo.InodesPerGroup - gd.ItableUnused()
	if f.groupFlag(g, disk.BgInodeUninit) {
		used = 0
	}
	if i < used {
		return nil
	}
	if gd.Flags&disk.BgItableZeroed == 0 {
		if err := f.zeroInodeSlots(g, used, i+1); err != nil {
			return err
		}
	}
	gd.SetItableUnused(f.geo.InodesPerGroup - (i + 1))
	f.gdDirty[g] = true
	return nil
}

// zeroInodeSlots zeroes inode indexes [from, to) of group g's table,
// writing only blocks that are not zero already.
func (f *FS) zeroInodeSlots(g, from, to uint32) error {
	isz := uint64(f.geo.InodeSize)
	bs := uint64(f.geo.BlockSize)
	table := f.gds[g].InodeTable()
	for b := uint64(from) * isz / bs; from < to && b*bs < uint64(to)*isz; b++ {
		blk, err := f.ReadBlock(table + b)
		if err != nil {
			return err
		}
		lo := max(uint64(from)*isz, b*bs) - b*bs
		hi := min(uint64(to)*isz, (b+1)*bs) - b*bs
		if isZero(blk[lo:hi]) {
			continue
		}
		clear(blk[lo:hi])
		if err := f.WriteBlock(table+b, blk); err != nil {
			return err
		}
	}
	return nil
}
