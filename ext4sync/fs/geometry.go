package fs

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

// Limits this engine accepts beyond what disk.GeometryOf checks.
const (
	maxBlockSize   = 4096
	maxLogFlexSize = 31
)

// geometryOf refuses a superblock whose layout fields this engine cannot
// update safely, and derives the geometry (disk.GeometryOf).
func geometryOf(sb *disk.Superblock) (disk.Geometry, error) {
	bs := sb.BlockSize()
	if bs < disk.MinBlockSize || bs > maxBlockSize {
		return disk.Geometry{}, unsupportedf("superblock: block size %d (log %d); only 1, 2 and 4 KiB are supported", bs, sb.LogBlockSize)
	}
	if sb.LogClusterSize != sb.LogBlockSize {
		return disk.Geometry{}, corruptf("superblock: cluster size log %d differs from block size log %d without bigalloc", sb.LogClusterSize, sb.LogBlockSize)
	}
	// g holds the superblock's fields even when the derivation stopped.
	g, derr := disk.GeometryOf(sb)
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
	if ds := sb.DescriptorSize(); ds != disk.GroupDescSize32 && ds != disk.GroupDescSize64 {
		return g, unsupportedf("superblock: group descriptor size %d (only 32 and 64)", ds)
	}
	if sb.FeatureIncompat.Has(disk.IncompatFlexBG) && sb.LogGroupsPerFlex > maxLogFlexSize {
		return g, corruptf("superblock: log groups per flex %d", sb.LogGroupsPerFlex)
	}
	if derr != nil {
		return g, corruptf("superblock: %s", detail(derr))
	}
	if 1+g.GdtBlocks+g.ReservedGdt >= uint64(g.BlocksPerGroup) {
		return g, corruptf("superblock: %d descriptor and %d reserved blocks do not fit a group of %d", g.GdtBlocks, g.ReservedGdt, g.BlocksPerGroup)
	}
	return g, nil
}
