package check

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

// layout is the geometry the superblock describes, after superblock.go
// validated it. (Issue 12 moves the engine to one shared layout
// description; this file is the checker's until then.)
type layout struct {
	blockSize    uint32
	blocksCount  uint64
	firstData    uint64 // s_first_data_block
	bpg          uint32 // blocks (= clusters) per group
	ipg          uint32 // inodes per group
	groups       uint32
	inodesCount  uint32
	inodeSize    uint32
	firstIno     uint32
	descSize     int
	gdtBlocks    uint64 // blocks of one copy of the descriptor table
	rsvGdt       uint64 // reserved descriptor blocks after each copy
	itableBlocks uint64 // blocks of one group's inode table
}

// groupFirst is the first block of group g.
func (l *layout) groupFirst(g uint32) uint64 { return l.firstData + uint64(g)*uint64(l.bpg) }

// groupBlocks is the number of blocks of group g (the last may be short).
func (l *layout) groupBlocks(g uint32) uint32 {
	if g+1 < l.groups {
		return l.bpg
	}
	return uint32(l.blocksCount - l.groupFirst(g))
}

// groupOf is the group holding block blk (which must be a data block).
func (l *layout) groupOf(blk uint64) uint32 { return uint32((blk - l.firstData) / uint64(l.bpg)) }

// inodeGroup is the group of inode ino and its index in the group.
func (l *layout) inodeGroup(ino uint32) (uint32, uint32) { return (ino - 1) / l.ipg, (ino - 1) % l.ipg }

// hasSuper reports whether group g holds a superblock copy and with it a
// descriptor table and the reserved descriptor blocks (ext2fs_bg_has_super).
func hasSuper(sb *disk.Superblock, g uint32) bool {
	if g == 0 {
		return true
	}
	if sb.FeatureCompat.Has(disk.CompatSparseSuper2) {
		return g == sb.BackupBgs[0] || g == sb.BackupBgs[1]
	}
	if g == 1 || !sb.FeatureRoCompat.Has(disk.RoCompatSparseSuper) {
		return true
	}
	if g%2 == 0 {
		return false
	}
	return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7)
}

func isPowerOf(n, base uint32) bool {
	for n%base == 0 {
		n /= base
	}
	return n == 1
}

// superSpan is the first block and count of group g's superblock copy,
// descriptor table and reserved descriptor blocks (n is 0 without a copy).
// Group 0's superblock lives in block FirstDataBlock; with 1 KiB blocks
// block 0 (the boot block) belongs to no group.
func (c *checker) superSpan(g uint32) (start, n uint64) {
	if !hasSuper(&c.sb, g) {
		return 0, 0
	}
	start = c.lay.groupFirst(g)
	return start, min(1+c.lay.gdtBlocks+c.lay.rsvGdt, uint64(c.lay.groupBlocks(g)))
}
