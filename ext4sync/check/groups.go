package check

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// gdtWhere names group g's descriptor and the table block holding it.
func (c *checker) gdtWhere(g uint32) string {
	return fmt.Sprintf("group %d descriptor (block %d)", g, c.lay.DescBlock(g))
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
		return c.lay.InodesPerGroup
	case c.gds[g].Flags&disk.BgInodeUninit != 0:
		return 0
	}
	return c.lay.InodesPerGroup - c.gds[g].ItableUnused()
}

// readDescriptors reads the primary descriptor table and applies
// check_super_block's per-group rules.
func (c *checker) readDescriptors() error {
	l := &c.lay
	raw, err := c.readBlocks(l.FirstDataBlock+1, l.GdtBlocks, "group descriptor table")
	if err != nil {
		return err
	}
	c.gds = make([]disk.GroupDesc, l.Groups)
	for g := uint32(0); g < l.Groups; g++ {
		where := c.gdtWhere(g)
		b := raw[int(g)*l.DescSize : int(g+1)*l.DescSize]
		gd := &c.gds[g]
		if err := gd.Unmarshal(b, l.DescSize); err != nil {
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
	first, last := l.FirstDataBlock, l.BlocksCount-1
	if !c.sb.FeatureIncompat.Has(disk.IncompatFlexBG) {
		first, last = l.GroupFirstBlock(g), l.GroupFirstBlock(g)+uint64(l.GroupBlocks(g))-1
	}
	inRange := func(b, n uint64) bool { return b >= first && b <= last && n-1 <= last-b }
	switch {
	case !inRange(gd.BlockBitmap(), 1):
		return bad(where, "block bitmap at block %d, outside %d..%d", gd.BlockBitmap(), first, last)
	case !inRange(gd.InodeBitmap(), 1):
		return bad(where, "inode bitmap at block %d, outside %d..%d", gd.InodeBitmap(), first, last)
	case !inRange(gd.InodeTable(), l.ItableBlocks):
		return bad(where, "inode table at blocks %d+%d, outside %d..%d", gd.InodeTable(), l.ItableBlocks, first, last)
	case gd.FreeBlocksCount() > l.BlocksPerGroup:
		return bad(where, "%d free blocks in a group of %d", gd.FreeBlocksCount(), l.BlocksPerGroup)
	case gd.FreeInodesCount() > l.InodesPerGroup:
		return bad(where, "%d free inodes in a group of %d", gd.FreeInodesCount(), l.InodesPerGroup)
	case gd.UsedDirsCount() > l.InodesPerGroup:
		return bad(where, "%d directories in a group of %d inodes", gd.UsedDirsCount(), l.InodesPerGroup)
	case !c.groupCsum() && (gd.Flags&(disk.BgBlockUninit|disk.BgInodeUninit) != 0 || gd.ItableUnused() != 0):
		return bad(where, "uninit flags %#x or %d unused inodes without uninit_bg or metadata_csum", gd.Flags, gd.ItableUnused())
	case g == l.Groups-1 && c.uninit(g, disk.BgBlockUninit):
		return bad(where, "BLOCK_UNINIT on the last group")
	case c.groupCsum() && (gd.ItableUnused() > gd.FreeInodesCount() || gd.ItableUnused() > l.InodesPerGroup):
		return bad(where, "%d unused inodes, more than its %d free inodes", gd.ItableUnused(), gd.FreeInodesCount())
	}
	return nil
}

// markTables claims every group's superblock copy, descriptor table,
// reserved descriptor blocks, bitmaps and inode table (mark_table_blocks),
// as disk.Layout lists them: two structures on one block is the
// descriptors' fault.
func (c *checker) markTables() error {
	c.found = newBitset(c.lay.BlocksCount)
	lay, err := disk.NewLayout(&c.sb, c.gds)
	if err != nil {
		return bad(sbWhere, "%v", err)
	}
	for _, s := range lay.MetadataSpans() {
		name := func(uint64) string { return fmt.Sprintf("group %d %s", s.Group, s.Kind) }
		if err := c.claim(s.Start, s.End-s.Start, name); err != nil {
			return err
		}
	}
	return nil
}
