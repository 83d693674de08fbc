package check

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// gdtWhere names group g's descriptor and the table block holding it.
func (c *checker) gdtWhere(g uint32) string {
	blk := c.lay.firstData + 1 + uint64(g)*uint64(c.lay.descSize)/uint64(c.lay.blockSize)
	return fmt.Sprintf("group %d descriptor (block %d)", g, blk)
}

// groupCsum reports whether descriptors carry checksums, which is what
// makes the uninit flags and bg_itable_unused meaningful.
func (c *checker) groupCsum() bool { return c.sb.HasGroupDescCsum() }

// uninit reports whether group g's flag is set and honoured.
func (c *checker) uninit(g uint32, flag uint16) bool {
	return c.groupCsum() && c.gds[g].Flags&flag != 0
}

// usedInodes is how many inodes at the start of group g's table may be in
// use: all of them, none for an INODE_UNINIT group, or those before
// bg_itable_unused.
func (c *checker) usedInodes(g uint32) uint32 {
	switch {
	case !c.groupCsum():
		return c.lay.ipg
	case c.gds[g].Flags&disk.BgInodeUninit != 0:
		return 0
	}
	return c.lay.ipg - c.gds[g].ItableUnused()
}

// readDescriptors reads the primary descriptor table and applies
// check_super_block's per-group rules.
func (c *checker) readDescriptors() error {
	l := &c.lay
	raw, err := c.readBlocks(l.firstData+1, l.gdtBlocks, "group descriptor table")
	if err != nil {
		return err
	}
	c.gds = make([]disk.GroupDesc, l.groups)
	for g := uint32(0); g < l.groups; g++ {
		where := c.gdtWhere(g)
		b := raw[int(g)*l.descSize : int(g+1)*l.descSize]
		gd := &c.gds[g]
		if err := gd.Unmarshal(b, l.descSize); err != nil {
			return bad(where, "%v", err)
		}
		if c.groupCsum() {
			if want := disk.GroupDescChecksum(&c.sb, g, b); want != gd.Checksum {
				return bad(where, "checksum %#04x, computed %#04x", gd.Checksum, want)
			}
		}
		if err := c.checkDescriptor(g, where); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) checkDescriptor(g uint32, where string) error {
	l := &c.lay
	gd := &c.gds[g]
	first, last := l.firstData, l.blocksCount-1
	if !c.sb.FeatureIncompat.Has(disk.IncompatFlexBG) {
		first, last = l.groupFirst(g), l.groupFirst(g)+uint64(l.groupBlocks(g))-1
	}
	inRange := func(b, n uint64) bool { return b >= first && b <= last && n-1 <= last-b }
	switch {
	case !inRange(gd.BlockBitmap(), 1):
		return bad(where, "block bitmap at block %d, outside %d..%d", gd.BlockBitmap(), first, last)
	case !inRange(gd.InodeBitmap(), 1):
		return bad(where, "inode bitmap at block %d, outside %d..%d", gd.InodeBitmap(), first, last)
	case !inRange(gd.InodeTable(), l.itableBlocks):
		return bad(where, "inode table at blocks %d+%d, outside %d..%d", gd.InodeTable(), l.itableBlocks, first, last)
	case gd.FreeBlocksCount() > l.bpg:
		return bad(where, "%d free blocks in a group of %d", gd.FreeBlocksCount(), l.bpg)
	case gd.FreeInodesCount() > l.ipg:
		return bad(where, "%d free inodes in a group of %d", gd.FreeInodesCount(), l.ipg)
	case gd.UsedDirsCount() > l.ipg:
		return bad(where, "%d directories in a group of %d inodes", gd.UsedDirsCount(), l.ipg)
	case !c.groupCsum() && (gd.Flags&(disk.BgBlockUninit|disk.BgInodeUninit) != 0 || gd.ItableUnused() != 0):
		return bad(where, "uninit flags %#x or %d unused inodes without uninit_bg or metadata_csum", gd.Flags, gd.ItableUnused())
	case g == l.groups-1 && c.uninit(g, disk.BgBlockUninit):
		return bad(where, "BLOCK_UNINIT on the last group")
	case c.groupCsum() && (gd.ItableUnused() > gd.FreeInodesCount() || gd.ItableUnused() > l.ipg):
		return bad(where, "%d unused inodes, more than its %d free inodes", gd.ItableUnused(), gd.FreeInodesCount())
	}
	return nil
}

// markTables claims every group's superblock copy, descriptor table,
// reserved descriptor blocks, bitmaps and inode table (mark_table_blocks):
// two structures on one block is the descriptors' fault.
func (c *checker) markTables() error {
	c.found = newBitset(c.lay.blocksCount)
	for g := uint32(0); g < c.lay.groups; g++ {
		for _, s := range c.groupStructs(g) {
			if s.n == 0 {
				continue
			}
			if err := c.claim(s.start, s.n, func(uint64) string { return s.name }); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupStruct is one metadata structure a group places.
type groupStruct struct {
	start, n uint64
	name     string
}

// groupStructs lists group g's superblock copy (with descriptors and
// reserved descriptors), block bitmap, inode bitmap and inode table.
func (c *checker) groupStructs(g uint32) [4]groupStruct {
	gd := &c.gds[g]
	ss, sn := c.superSpan(g)
	sname := fmt.Sprintf("group %d backup superblock and descriptors", g)
	if g == 0 {
		sname = "superblock and group descriptors"
	}
	return [4]groupStruct{
		{ss, sn, sname},
		{gd.BlockBitmap(), 1, fmt.Sprintf("group %d block bitmap", g)},
		{gd.InodeBitmap(), 1, fmt.Sprintf("group %d inode bitmap", g)},
		{gd.InodeTable(), c.lay.itableBlocks, fmt.Sprintf("group %d inode table", g)},
	}
}
