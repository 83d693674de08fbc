package check

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// checkBlockBitmaps is pass 5 for blocks: each group's bitmap (as read,
// or as libext2fs builds it for a BLOCK_UNINIT group) equals the blocks
// found in use, its padding is set, and the group and superblock free
// counts equal its free bits.
func (c *checker) checkBlockBitmaps() error {
	l := &c.lay
	extra := c.uninitTables()
	var total uint64
	for g := uint32(0); g < l.Groups; g++ {
		gd := &c.gds[g]
		where := fmt.Sprintf("group %d block bitmap (block %d)", g, gd.BlockBitmap())
		bm := make([]byte, l.BlockSize)
		if c.uninit(g, disk.BgBlockUninit) {
			where = fmt.Sprintf("group %d block bitmap (BLOCK_UNINIT)", g)
			if s, n := c.superSpan(g); n > 0 {
				setBits(bm, uint32(s-l.GroupFirstBlock(g)), uint32(n))
			}
		} else {
			b, err := c.readBlocks(gd.BlockBitmap(), 1, where)
			if err != nil {
				return err
			}
			bm = b
			if c.sb.HasMetadataCsum() && !gd.BlockBitmapCsumMatches(l.DescSize, disk.BlockBitmapChecksum(c.seed, bm, l.BlocksPerGroup)) {
				return bad(where, "checksum mismatch")
			}
			if !allOnes(bm[l.BlocksPerGroup/8:]) {
				return bad(where, "padding after the group's %d bits is not all ones", l.BlocksPerGroup)
			}
			for i := l.GroupBlocks(g); i < l.BlocksPerGroup; i++ {
				if !bitOf(bm, i) {
					return bad(where, "bit %d, past the end of the filesystem, is clear", i)
				}
			}
		}
		first := l.GroupFirstBlock(g)
		for _, x := range extra[g] {
			setBits(bm, uint32(x.start-first), uint32(x.n))
		}
		var free uint32
		for i := uint32(0); i < l.GroupBlocks(g); i++ {
			blk := first + uint64(i)
			used, marked := c.found.test(blk), bitOf(bm, i)
			switch {
			case used && !marked:
				return bad(where, "block %d is used by %s but marked free", blk, c.firstClaimant(blk))
			case marked && !used:
				return bad(where, "block %d is marked in use, but nothing uses it", blk)
			case !marked:
				free++
			}
		}
		if free != gd.FreeBlocksCount() {
			return bad(c.gdtWhere(g), "%d free blocks, but the bitmap has %d", gd.FreeBlocksCount(), free)
		}
		total += uint64(free)
	}
	if total != c.sb.FreeBlocksCount() {
		return bad(sbWhere, "%d free blocks, but the groups have %d", c.sb.FreeBlocksCount(), total)
	}
	return nil
}

// span is a block range [start, start+n).
type span struct{ start, n uint64 }

// uninitTables lists, by the group they lie in, the bitmaps and inode
// table of every BLOCK_UNINIT group: libext2fs marks them in use wherever
// they are (mark_uninit_bg_group_blocks), since such a group has no bitmap
// block to say so.
func (c *checker) uninitTables() map[uint32][]span {
	out := map[uint32][]span{}
	for g := uint32(0); g < c.lay.Groups; g++ {
		if !c.uninit(g, disk.BgBlockUninit) {
			continue
		}
		gd := &c.gds[g]
		for _, s := range []span{{gd.BlockBitmap(), 1}, {gd.InodeBitmap(), 1}, {gd.InodeTable(), c.lay.ItableBlocks}} {
			for s.n > 0 {
				h, _, _ := c.lay.GroupOfBlock(s.start)
				end := min(s.start+s.n, c.lay.GroupFirstBlock(h)+uint64(c.lay.GroupBlocks(h)))
				out[h] = append(out[h], span{s.start, end - s.start})
				s.n -= end - s.start
				s.start = end
			}
		}
	}
	return out
}

// checkInodeBitmaps is pass 5 for inodes: each group's inode bitmap (all
// free for an INODE_UNINIT group) equals the inodes found in use, its
// padding is set, and the free inode and directory counts match.
func (c *checker) checkInodeBitmaps() error {
	l := &c.lay
	var total uint64
	for g := uint32(0); g < l.Groups; g++ {
		gd := &c.gds[g]
		where := fmt.Sprintf("group %d inode bitmap (block %d)", g, gd.InodeBitmap())
		bm := make([]byte, l.BlockSize)
		if c.uninit(g, disk.BgInodeUninit) {
			where = fmt.Sprintf("group %d inode bitmap (INODE_UNINIT)", g)
		} else {
			b, err := c.readBlocks(gd.InodeBitmap(), 1, where)
			if err != nil {
				return err
			}
			bm = b
			if c.sb.HasMetadataCsum() && !gd.InodeBitmapCsumMatches(l.DescSize, disk.InodeBitmapChecksum(c.seed, bm, l.InodesPerGroup)) {
				return bad(where, "checksum mismatch")
			}
			if !allOnes(bm[l.InodesPerGroup/8:]) {
				return bad(where, "padding after the group's %d bits is not all ones", l.InodesPerGroup)
			}
		}
		var free, dirs uint32
		for i := uint32(0); i < l.InodesPerGroup; i++ {
			ino := g*l.InodesPerGroup + i + 1
			used, marked := c.inodeUsed.test(uint64(ino)), bitOf(bm, i)
			switch {
			case used && !marked:
				return bad(where, "inode %d is in use but marked free", ino)
			case marked && !used:
				return bad(where, "inode %d is marked in use, but is not in use", ino)
			case !marked:
				free++
			case c.inodeDir.test(uint64(ino)):
				dirs++
			}
		}
		switch {
		case free != gd.FreeInodesCount():
			return bad(c.gdtWhere(g), "%d free inodes, but the bitmap has %d", gd.FreeInodesCount(), free)
		case dirs != gd.UsedDirsCount():
			return bad(c.gdtWhere(g), "%d directories, but %d are in use", gd.UsedDirsCount(), dirs)
		}
		total += uint64(free)
	}
	if total != uint64(c.sb.FreeInodesCount) {
		return bad(sbWhere, "%d free inodes, but the groups have %d", c.sb.FreeInodesCount, total)
	}
	return nil
}

func setBits(bm []byte, from, n uint32) {
	for i := from; i < from+n; i++ {
		bm[i/8] |= 1 << (i % 8)
	}
}

func allOnes(b []byte) bool {
	for _, x := range b {
		if x != 0xFF {
			return false
		}
	}
	return true
}
