package check

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
)

// Inode fields the format layer keeps raw.
const (
	itableChunk = 1 << 20 // the most inode table bytes read at once
	quotaUsrIno = disk.UsrQuotaIno
	quotaGrpIno = disk.GrpQuotaIno
	linkMax     = 65000 // EXT4_LINK_MAX: more subdirectories count as 1 with dir_nlink
)

// inodeWhere names inode ino with the inode table block holding it.
func (c *checker) inodeWhere(ino uint32) string {
	g, i := c.lay.GroupOfInode(ino)
	blk := c.gds[g].InodeTable() + uint64(i)*uint64(c.lay.InodeSize)/uint64(c.lay.BlockSize)
	return fmt.Sprintf("inode %d (inode table block %d)", ino, blk)
}

// scanInodes is pass 1: every inode of every table, up to each group's
// bg_itable_unused, read in one pass; in-use inodes have their fields
// checked and their blocks claimed.
func (c *checker) scanInodes() error {
	l := &c.lay
	n := uint64(l.InodesCount) + 1
	c.inodeUsed, c.inodeDir = newBitset(n), newBitset(n)
	c.ftype = make([]uint8, n)
	c.links = make([]uint16, n)
	c.xattrs = map[uint64]*xattrBlock{}
	isz := uint64(l.InodeSize)
	// Tables are read in chunks of at most itableChunk bytes (whole
	// inodes: the inode size divides it), so memory does not follow the
	// group size.
	buf := make([]byte, min(itableChunk, uint64(l.InodesPerGroup)*isz))
	for g := uint32(0); g < l.Groups; g++ {
		count := uint64(c.usedInodes(g))
		table := int64(c.gds[g].InodeTable() * uint64(l.BlockSize))
		for first := uint64(0); first < count; {
			n := min(count-first, uint64(len(buf))/isz)
			b := buf[:n*isz]
			if err := c.readAt(b, table+int64(first*isz), fmt.Sprintf("group %d inode table", g)); err != nil {
				return err
			}
			for i := uint64(0); i < n; i++ {
				ino := g*l.InodesPerGroup + uint32(first+i) + 1
				if err := c.checkInode(ino, b[i*isz:(i+1)*isz]); err != nil {
					return err
				}
			}
			first += n
		}
	}
	if c.owner != nil {
		return nil
	}
	for blk, x := range c.xattrs {
		if x.refs != x.refcount {
			return bad(fmt.Sprintf("xattr block %d", blk), "h_refcount %d, but %d inodes use it (first inode %d)", x.refcount, x.refs, x.first)
		}
	}
	return nil
}

// checkInode applies pass 1's rules to one inode.
func (c *checker) checkInode(ino uint32, raw []byte) error {
	base := &c.cur
	if err := base.Unmarshal(raw[:disk.GoodOldInodeSize]); err != nil {
		return bad(c.inodeWhere(ino), "%v", err)
	}
	if c.sb.HasMetadataCsum() && !disk.VerifyInodeChecksum(disk.InodeSeed(c.seed, ino, base.Generation), raw) && !allZero(raw[:disk.GoodOldInodeSize]) {
		return bad(c.inodeWhere(ino), "checksum mismatch")
	}
	if base.Dtime != 0 && c.lowDtime && base.Dtime < c.lay.InodesCount {
		return bad(c.inodeWhere(ino), "i_dtime %d is below the inode count %d (a corrupted orphan list link)", base.Dtime, c.lay.InodesCount)
	}
	if base.LinksCount == 0 && ino >= c.lay.FirstIno {
		if base.Dtime == 0 && base.Mode != 0 {
			return bad(c.inodeWhere(ino), "deleted (no links) but i_dtime is 0")
		}
		return nil
	}
	// The fields past the base inode are read from raw where needed
	// (i_extra_isize, the in-inode xattrs): no copy of the inode's tail.
	in := base
	if len(raw) > disk.GoodOldInodeSize+1 {
		in.ExtraIsize = binary.LittleEndian.Uint16(raw[disk.GoodOldInodeSize:])
	}
	if err := c.checkFlags(ino, in); err != nil {
		return err
	}
	if special, err := c.checkReserved(ino, in, raw); special || err != nil {
		return err
	}
	if in.LinksCount == 0 {
		return nil // the root without links: pass 3 finds it missing
	}
	return c.checkInUse(ino, in, raw)
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// checkFlags applies the i_flags rules e2fsck checks on every inode that
// is in use or reserved.
func (c *checker) checkFlags(ino uint32, in *disk.Inode) error {
	extentFS := c.sb.FeatureIncompat.Has(disk.IncompatExtents)
	mapped := in.LinksCount != 0 || ino == disk.BadBlocksIno || ino == disk.RootIno || ino == disk.JournalIno
	switch {
	case in.Flags.Has(disk.FlagInlineData):
		return bad(c.inodeWhere(ino), "inline data flag without the inline_data feature")
	case in.Flags.Has(disk.FlagCasefold):
		return bad(c.inodeWhere(ino), "casefold flag without the casefold feature")
	case in.Flags.Has(disk.FlagEAInode):
		return bad(c.inodeWhere(ino), "ea_inode flag without the ea_inode feature")
	case in.Flags.Has(disk.FlagEncrypt):
		return bad(c.inodeWhere(ino), "encrypt flag without the encrypt feature")
	case in.Flags.Has(disk.FlagVerity):
		return bad(c.inodeWhere(ino), "verity flag without the verity feature")
	case in.Flags.Has(disk.FlagExtents) && !extentFS && mapped:
		return bad(c.inodeWhere(ino), "extents flag without the extent feature")
	case extentFS && !in.Flags.Has(disk.FlagExtents) && mapped && (in.FileType() == disk.ModeRegular || in.IsDir()) &&
		extentHeaderValid(in.Block[:]):
		return bad(c.inodeWhere(ino), "i_block holds an extent tree but the extents flag is clear")
	}
	return nil
}

// extentHeaderValid is ext2fs_extent_header_verify on the inode's root.
func extentHeaderValid(root []byte) bool {
	h := extent.DecodeHeader(root)
	return h.Magic == extent.Magic && h.Entries <= h.Max && h.Max <= extent.RootMax && h.Max >= extent.RootMax-2
}

// checkInUse applies pass 1's rules to an inode in use (links > 0) that
// is not one of the reserved inodes handled by checkReserved.
func (c *checker) checkInUse(ino uint32, in *disk.Inode, raw []byte) error {
	sb := &c.sb
	if in.Dtime != 0 {
		return bad(c.inodeWhere(ino), "in use (%d links) but i_dtime is %d", in.LinksCount, in.Dtime)
	}
	c.inodeUsed.set(uint64(ino))
	c.links[ino] = in.LinksCount
	switch {
	case in.ObsoFaddr != 0:
		return bad(c.inodeWhere(ino), "i_faddr %d is not 0", in.ObsoFaddr)
	case in.IsDir() && in.SizeHigh != 0:
		return bad(c.inodeWhere(ino), "directory i_size_high %d without large_dir", in.SizeHigh)
	case !sb.Is64Bit() && in.FileACLHigh != 0:
		return bad(c.inodeWhere(ino), "i_file_acl_high %d without 64bit", in.FileACLHigh)
	case !sb.FeatureRoCompat.Has(disk.RoCompatHugeFile) && in.BlocksHigh != 0:
		return bad(c.inodeWhere(ino), "i_blocks_hi %d without huge_file", in.BlocksHigh)
	case in.Flags.Has(disk.FlagImagic):
		return bad(c.inodeWhere(ino), "imagic flag without the imagic_inodes feature")
	}
	if err := c.checkExtraSpace(ino, in, raw); err != nil {
		return err
	}
	switch in.FileType() {
	case disk.ModeDir:
		c.ftype[ino] = uint8(dir.TypeDir)
		c.inodeDir.set(uint64(ino))
	case disk.ModeRegular:
		c.ftype[ino] = uint8(dir.TypeRegular)
	case disk.ModeChar, disk.ModeBlock, disk.ModeFIFO, disk.ModeSocket:
		if !deviceValid(in) {
			return bad(c.inodeWhere(ino), "device, FIFO or socket with index or extents flag, or immutable with blocks")
		}
		if in.Size() != 0 {
			return bad(c.inodeWhere(ino), "device, FIFO or socket with i_size %d", in.Size())
		}
		c.ftype[ino] = uint8(specialType(in.FileType()))
	case disk.ModeSymlink:
		if err := c.checkSymlink(ino, in); err != nil {
			return err
		}
		c.ftype[ino] = uint8(dir.TypeSymlink)
	default:
		return bad(c.inodeWhere(ino), "bad file type in mode %#o", in.Mode)
	}
	return c.checkBlocks(ino, in)
}

func specialType(t uint16) dir.FileType {
	switch t {
	case disk.ModeChar:
		return dir.TypeCharDev
	case disk.ModeBlock:
		return dir.TypeBlock
	case disk.ModeFIFO:
		return dir.TypeFIFO
	}
	return dir.TypeSocket
}

// deviceValid is e2fsck_pass1_check_device_inode.
func deviceValid(in *disk.Inode) bool {
	if in.Flags&(disk.FlagIndex|disk.FlagExtents) != 0 {
		return false
	}
	if in.Flags&(disk.FlagImmutable|disk.FlagAppend) != 0 && !allZero(in.Block[16:]) {
		return false
	}
	return true
}

// checkExtraSpace checks i_extra_isize and the in-inode xattrs.
func (c *checker) checkExtraSpace(ino uint32, in *disk.Inode, raw []byte) error {
	if c.lay.InodeSize == disk.GoodOldInodeSize {
		return nil
	}
	max := uint16(c.lay.InodeSize - disk.GoodOldInodeSize)
	if x := in.ExtraIsize; x != 0 && (x < minExtraIsize || x > max || x%4 != 0) {
		return bad(c.inodeWhere(ino), "i_extra_isize %d out of range %d..%d", x, minExtraIsize, max)
	}
	// extra_isize promises every inode s_min_extra_isize bytes of extra
	// fields (e2fsck -n does not check it). An inode with fewer cannot
	// hold nanoseconds or a creation time, which an edit may have to set.
	if c.sb.FeatureRoCompat.Has(disk.RoCompatExtraIsize) && in.ExtraIsize < c.sb.MinExtraIsize {
		return bad(c.inodeWhere(ino), "i_extra_isize %d below s_min_extra_isize %d (extra_isize feature)", in.ExtraIsize, c.sb.MinExtraIsize)
	}
	if _, err := xattr.DecodeInode(raw, ino); err != nil {
		if errors.Is(err, xattr.ErrEAInode) {
			return unsupported(c.inodeWhere(ino), "%v", err)
		}
		return bad(c.inodeWhere(ino), "in-inode xattrs: %v", err)
	}
	return nil
}
