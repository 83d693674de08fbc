package attrib

import (
	"errors"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Group is where one block group's metadata lives.
type Group struct {
	// Super is true when the group holds a superblock (the primary in
	// group 0, else a backup) and a copy of the descriptor table.
	Super       bool   `json:"super"`
	BlockBitmap uint64 `json:"block_bitmap"`
	InodeBitmap uint64 `json:"inode_bitmap"`
	InodeTable  uint64 `json:"inode_table"`
}

// Layout is where an ext4 filesystem keeps its metadata, read from its
// superblock and primary descriptor table. It satisfies placement.Layout.
type Layout struct {
	BlockSize      uint32  `json:"block_size"`
	BlocksCount    uint64  `json:"blocks_count"`
	FirstDataBlock uint64  `json:"first_data_block"`
	BlocksPerGroup uint32  `json:"blocks_per_group"`
	InodesPerGroup uint32  `json:"inodes_per_group"`
	InodeSize      uint16  `json:"inode_size"`
	DescSize       int     `json:"desc_size"`
	GdtBlocks      uint64  `json:"gdt_blocks"`
	ReservedGdt    uint64  `json:"reserved_gdt"`
	ItableBlocks   uint64  `json:"itable_blocks"`
	Groups         []Group `json:"groups"`
}

// Limits on what ReadLayout accepts, so a damaged superblock cannot make
// it allocate without bound.
const (
	minLogBlock  = 10 // 1 KiB
	maxLogBlock  = 16 // 64 KiB
	maxGroups    = 1 << 20
	oldInodeSize = 128 // revision 0
)

// ErrLayout is what a superblock or descriptor table that cannot describe
// a filesystem wraps.
var ErrLayout = errors.New("attrib: not an ext4 layout")

// ReadLayout reads the superblock and primary descriptor table of the
// ext4 filesystem on r.
func ReadLayout(r io.ReaderAt) (*Layout, error) {
	raw := make([]byte, disk.SuperblockSize)
	if _, err := r.ReadAt(raw, disk.SuperblockOffset); err != nil {
		return nil, fmt.Errorf("ext4: read superblock at byte %d: %w", disk.SuperblockOffset, err)
	}
	var sb disk.Superblock
	if err := sb.Unmarshal(raw); err != nil {
		return nil, err
	}
	if sb.Magic != disk.SuperMagic {
		return nil, fmt.Errorf("ext4: superblock magic %#x: %w", sb.Magic, ErrLayout)
	}
	if sb.LogBlockSize > maxLogBlock-minLogBlock {
		return nil, fmt.Errorf("ext4: superblock: block size log %d: %w", sb.LogBlockSize, ErrLayout)
	}
	l := &Layout{
		BlockSize: sb.BlockSize(), BlocksCount: sb.BlocksCount(), FirstDataBlock: uint64(sb.FirstDataBlock),
		BlocksPerGroup: sb.BlocksPerGroup, InodesPerGroup: sb.InodesPerGroup,
		InodeSize: oldInodeSize, DescSize: sb.DescriptorSize(), ReservedGdt: uint64(sb.ReservedGdtBlocks),
	}
	if sb.RevLevel > 0 {
		l.InodeSize = sb.InodeSize
	}
	if l.BlocksPerGroup == 0 || l.InodeSize == 0 || l.BlocksCount <= l.FirstDataBlock ||
		(l.DescSize != disk.GroupDescSize32 && l.DescSize != disk.GroupDescSize64) {
		return nil, fmt.Errorf("ext4: superblock: %d blocks, %d per group, inode size %d, descriptor size %d: %w",
			l.BlocksCount, l.BlocksPerGroup, l.InodeSize, l.DescSize, ErrLayout)
	}
	groups := (l.BlocksCount - l.FirstDataBlock + uint64(l.BlocksPerGroup) - 1) / uint64(l.BlocksPerGroup)
	if groups > maxGroups {
		return nil, fmt.Errorf("ext4: superblock: %d groups (max %d): %w", groups, maxGroups, ErrLayout)
	}
	bs := uint64(l.BlockSize)
	l.GdtBlocks = (groups*uint64(l.DescSize) + bs - 1) / bs
	l.ItableBlocks = (uint64(l.InodesPerGroup)*uint64(l.InodeSize) + bs - 1) / bs
	gdt := make([]byte, l.GdtBlocks*bs)
	if _, err := r.ReadAt(gdt, int64((l.FirstDataBlock+1)*bs)); err != nil {
		return nil, fmt.Errorf("ext4: read group descriptors at block %d: %w", l.FirstDataBlock+1, err)
	}
	l.Groups = make([]Group, groups)
	for g := range l.Groups {
		var gd disk.GroupDesc
		if err := gd.Unmarshal(gdt[g*l.DescSize:], l.DescSize); err != nil {
			return nil, fmt.Errorf("ext4: group %d descriptor: %w", g, err)
		}
		l.Groups[g] = Group{Super: hasSuper(&sb, uint32(g)), BlockBitmap: gd.BlockBitmap(),
			InodeBitmap: gd.InodeBitmap(), InodeTable: gd.InodeTable()}
	}
	return l, nil
}

// hasSuper reports whether group g holds a superblock, per sparse_super
// and sparse_super2 (the same rule e2fsprogs' ext2fs_bg_has_super follows).
func hasSuper(sb *disk.Superblock, g uint32) bool {
	switch {
	case g == 0:
		return true
	case sb.FeatureCompat.Has(disk.CompatSparseSuper2):
		return g == sb.BackupBgs[0] || g == sb.BackupBgs[1]
	case !sb.FeatureRoCompat.Has(disk.RoCompatSparseSuper):
		return true
	}
	return g == 1 || powerOf(g, 3) || powerOf(g, 5) || powerOf(g, 7)
}

func powerOf(n, base uint32) bool {
	for n > 1 && n%base == 0 {
		n /= base
	}
	return n == 1
}

// GroupFirstBlock is the first block of group g.
func (l *Layout) GroupFirstBlock(g uint32) uint64 {
	return l.FirstDataBlock + uint64(g)*uint64(l.BlocksPerGroup)
}

func (l *Layout) group(g uint32) Group {
	if int(g) < len(l.Groups) {
		return l.Groups[g]
	}
	return Group{BlockBitmap: l.BlocksCount, InodeBitmap: l.BlocksCount, InodeTable: l.BlocksCount}
}

// BlockBitmap, InodeBitmap and InodeTable are group g's metadata blocks
// (BlocksCount, past the end, for a group that does not exist).
func (l *Layout) BlockBitmap(g uint32) uint64 { return l.group(g).BlockBitmap }
func (l *Layout) InodeBitmap(g uint32) uint64 { return l.group(g).InodeBitmap }
func (l *Layout) InodeTable(g uint32) uint64  { return l.group(g).InodeTable }

// DescBlock is the block of the primary descriptor table holding group
// g's descriptor.
func (l *Layout) DescBlock(g uint32) uint64 {
	if l.BlockSize == 0 {
		return l.BlocksCount
	}
	return l.FirstDataBlock + 1 + uint64(g)*uint64(l.DescSize)/uint64(l.BlockSize)
}
