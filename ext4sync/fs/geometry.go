package fs

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

// Geometry is the layout of a filesystem, derived from its superblock.
type Geometry struct {
	BlockSize      uint32
	BlocksCount    uint64
	FirstDataBlock uint64 // 1 with 1 KiB blocks, else 0
	BlocksPerGroup uint32
	InodesPerGroup uint32
	InodesCount    uint32
	InodeSize      uint16
	FirstIno       uint32 // first non-reserved inode
	Groups         uint32
	GdtBlocks      uint64 // blocks of the descriptor table
	ReservedGdt    uint64 // reserved descriptor blocks after it (resize_inode)
	ItableBlocks   uint64 // blocks of one group's inode table
	FlexGroups     uint32 // groups per flex group (1 without flex_bg)
}

// Limits this engine accepts.
const (
	maxBlockSize   = 4096
	goodOldRev     = 0
	maxLogFlexSize = 31
)

// geometryOf validates the superblock's layout fields and derives Geometry.
func geometryOf(sb *disk.Superblock) (Geometry, error) {
	bs := sb.BlockSize()
	if bs < disk.MinBlockSize || bs > maxBlockSize {
		return Geometry{}, unsupportedf("superblock: block size %d (log %d); only 1, 2 and 4 KiB are supported", bs, sb.LogBlockSize)
	}
	if sb.LogClusterSize != sb.LogBlockSize {
		return Geometry{}, corruptf("superblock: cluster size log %d differs from block size log %d without bigalloc", sb.LogClusterSize, sb.LogBlockSize)
	}
	g := Geometry{
		BlockSize:      bs,
		BlocksCount:    sb.BlocksCount(),
		FirstDataBlock: uint64(sb.FirstDataBlock),
		BlocksPerGroup: sb.BlocksPerGroup,
		InodesPerGroup: sb.InodesPerGroup,
		InodesCount:    sb.InodesCount,
		InodeSize:      disk.GoodOldInodeSize,
		FirstIno:       disk.GoodOldFirstIno,
		FlexGroups:     1,
	}
	if sb.RevLevel > goodOldRev {
		g.InodeSize, g.FirstIno = sb.InodeSize, sb.FirstIno
	}
	wantFirst := uint64(0)
	if bs == disk.MinBlockSize {
		wantFirst = 1
	}
	bitsPerBlock := bs * 8
	switch {
	case g.FirstDataBlock != wantFirst:
		return g, corruptf("superblock: first data block %d, want %d for %d-byte blocks", g.FirstDataBlock, wantFirst, bs)
	case g.BlocksPerGroup == 0 || g.BlocksPerGroup > bitsPerBlock || g.BlocksPerGroup%8 != 0:
		return g, corruptf("superblock: %d blocks per group (max %d, multiple of 8)", g.BlocksPerGroup, bitsPerBlock)
	case sb.ClustersPerGroup != sb.BlocksPerGroup:
		return g, corruptf("superblock: %d clusters per group differs from %d blocks per group", sb.ClustersPerGroup, sb.BlocksPerGroup)
	case g.InodesPerGroup == 0 || g.InodesPerGroup > bitsPerBlock || g.InodesPerGroup%8 != 0:
		return g, corruptf("superblock: %d inodes per group (max %d, multiple of 8)", g.InodesPerGroup, bitsPerBlock)
	case g.InodeSize < disk.GoodOldInodeSize || uint32(g.InodeSize) > bs || g.InodeSize&(g.InodeSize-1) != 0:
		return g, corruptf("superblock: inode size %d", g.InodeSize)
	case g.BlocksCount <= g.FirstDataBlock:
		return g, corruptf("superblock: %d blocks", g.BlocksCount)
	case g.FirstIno < disk.GoodOldFirstIno || g.FirstIno > g.InodesCount:
		return g, corruptf("superblock: first inode %d of %d", g.FirstIno, g.InodesCount)
	}
	groups := (g.BlocksCount - g.FirstDataBlock + uint64(g.BlocksPerGroup) - 1) / uint64(g.BlocksPerGroup)
	if groups*uint64(g.InodesPerGroup) != uint64(g.InodesCount) {
		return g, corruptf("superblock: %d inodes, but %d groups of %d", g.InodesCount, groups, g.InodesPerGroup)
	}
	g.Groups = uint32(groups)
	ds := uint64(sb.DescriptorSize())
	if ds != disk.GroupDescSize32 && ds != disk.GroupDescSize64 {
		return g, unsupportedf("superblock: group descriptor size %d (only 32 and 64)", ds)
	}
	g.GdtBlocks = (groups*ds + uint64(bs) - 1) / uint64(bs)
	g.ReservedGdt = uint64(sb.ReservedGdtBlocks)
	g.ItableBlocks = (uint64(g.InodesPerGroup)*uint64(g.InodeSize) + uint64(bs) - 1) / uint64(bs)
	if 1+g.GdtBlocks+g.ReservedGdt >= uint64(g.BlocksPerGroup) {
		return g, corruptf("superblock: %d descriptor and %d reserved blocks do not fit a group of %d", g.GdtBlocks, g.ReservedGdt, g.BlocksPerGroup)
	}
	if sb.FeatureIncompat.Has(disk.IncompatFlexBG) {
		if sb.LogGroupsPerFlex > maxLogFlexSize {
			return g, corruptf("superblock: log groups per flex %d", sb.LogGroupsPerFlex)
		}
		g.FlexGroups = 1 << sb.LogGroupsPerFlex
	}
	return g, nil
}

// GroupOfBlock returns the group holding blk and blk's index in it. Blocks
// before the first data block belong to no group (ok false).
func (g Geometry) GroupOfBlock(blk uint64) (group uint32, index uint32, ok bool) {
	if blk < g.FirstDataBlock || blk >= g.BlocksCount {
		return 0, 0, false
	}
	rel := blk - g.FirstDataBlock
	return uint32(rel / uint64(g.BlocksPerGroup)), uint32(rel % uint64(g.BlocksPerGroup)), true
}

// GroupFirstBlock is the first block of group.
func (g Geometry) GroupFirstBlock(group uint32) uint64 {
	return g.FirstDataBlock + uint64(group)*uint64(g.BlocksPerGroup)
}

// GroupBlocks is the number of blocks in group (the last may be short).
func (g Geometry) GroupBlocks(group uint32) uint32 {
	if group+1 < g.Groups {
		return g.BlocksPerGroup
	}
	return uint32(g.BlocksCount - g.GroupFirstBlock(group))
}

// GroupOfInode returns the group holding inode ino (1-based) and its index
// in the group's table.
func (g Geometry) GroupOfInode(ino uint32) (group uint32, index uint32) {
	return (ino - 1) / g.InodesPerGroup, (ino - 1) % g.InodesPerGroup
}
