package check

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

// superSpan is the first block and count of group g's superblock copy,
// descriptor table and reserved descriptor blocks (n is 0 without a copy).
// Group 0's superblock lives in block FirstDataBlock; with 1 KiB blocks
// block 0 (the boot block) belongs to no group.
func (c *checker) superSpan(g uint32) (start, n uint64) {
	if !disk.HasSuper(&c.sb, g) {
		return 0, 0
	}
	start = c.lay.GroupFirstBlock(g)
	return start, min(1+c.lay.GdtBlocks+c.lay.ReservedGdt, uint64(c.lay.GroupBlocks(g)))
}
