package disk

import (
	"errors"
	"fmt"
)

// Geometry is the shape of an ext4 filesystem as its superblock fixes it:
// block and group sizes and counts, and the size of what every group
// holds. Where each group's metadata lies is Layout's.
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
	DescSize       int    // bytes of one group descriptor (32 or 64)
	GdtBlocks      uint64 // blocks of the descriptor table
	ReservedGdt    uint64 // reserved descriptor blocks after it (resize_inode)
	ItableBlocks   uint64 // blocks of one group's inode table
	FlexGroups     uint32 // groups per flex group (1 without flex_bg)
}

// ErrGeometry is wrapped by GeometryOf and ReadLayout when a superblock or
// descriptor table cannot describe a filesystem.
var ErrGeometry = errors.New("not an ext4 layout")

// Bounds GeometryOf keeps derived sizes within, so a damaged superblock
// cannot make a reader allocate without limit.
const (
	maxGroups      = 1 << 20
	maxLogFlexSize = 31
)

// GoodOldRev is s_rev_level of revision 0 filesystems, whose inode size
// and first inode are fixed (GoodOldInodeSize, GoodOldFirstIno).
const GoodOldRev = 0

// GeometryOf derives the geometry from a superblock. It checks only what
// the derivation needs to be meaningful (a known block size, non-zero
// group sizes, a descriptor size of 32 or 64, at most 2^20 groups); what
// an implementation supports is the caller's to check.
func GeometryOf(sb *Superblock) (Geometry, error) {
	g := Geometry{
		BlockSize:      sb.BlockSize(),
		BlocksCount:    sb.BlocksCount(),
		FirstDataBlock: uint64(sb.FirstDataBlock),
		BlocksPerGroup: sb.BlocksPerGroup,
		InodesPerGroup: sb.InodesPerGroup,
		InodesCount:    sb.InodesCount,
		InodeSize:      GoodOldInodeSize,
		FirstIno:       GoodOldFirstIno,
		DescSize:       sb.DescriptorSize(),
		ReservedGdt:    uint64(sb.ReservedGdtBlocks),
		FlexGroups:     1,
	}
	if sb.RevLevel > GoodOldRev {
		g.InodeSize, g.FirstIno = sb.InodeSize, sb.FirstIno
	}
	if g.BlockSize == 0 {
		return g, fmt.Errorf("ext4: superblock: block size log %d: %w", sb.LogBlockSize, ErrGeometry)
	}
	if g.BlocksPerGroup == 0 || g.InodeSize == 0 || g.BlocksCount <= g.FirstDataBlock ||
		(g.DescSize != GroupDescSize32 && g.DescSize != GroupDescSize64) {
		return g, fmt.Errorf("ext4: superblock: %d blocks, %d per group, inode size %d, descriptor size %d: %w",
			g.BlocksCount, g.BlocksPerGroup, g.InodeSize, g.DescSize, ErrGeometry)
	}
	groups := (g.BlocksCount - g.FirstDataBlock + uint64(g.BlocksPerGroup) - 1) / uint64(g.BlocksPerGroup)
	if groups > maxGroups {
		return g, fmt.Errorf("ext4: superblock: %d groups (max %d): %w", groups, maxGroups, ErrGeometry)
	}
	g.Groups = uint32(groups)
	bs := uint64(g.BlockSize)
	g.GdtBlocks = (groups*uint64(g.DescSize) + bs - 1) / bs
	g.ItableBlocks = (uint64(g.InodesPerGroup)*uint64(g.InodeSize) + bs - 1) / bs
	if sb.FeatureIncompat.Has(IncompatFlexBG) {
		if sb.LogGroupsPerFlex > maxLogFlexSize {
			return g, fmt.Errorf("ext4: superblock: log groups per flex %d: %w", sb.LogGroupsPerFlex, ErrGeometry)
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

// GdtStart is the first block of the primary descriptor table.
func (g Geometry) GdtStart() uint64 { return g.FirstDataBlock + 1 }

// DescBlock is the block of the primary descriptor table holding group
// group's descriptor.
func (g Geometry) DescBlock(group uint32) uint64 {
	if g.BlockSize == 0 {
		return g.BlocksCount
	}
	return g.GdtStart() + uint64(group)*uint64(g.DescSize)/uint64(g.BlockSize)
}
