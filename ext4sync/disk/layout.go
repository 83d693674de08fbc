package disk

import (
	"fmt"
	"sort"
)

// GroupMeta is where one block group's metadata lives.
type GroupMeta struct {
	// Super is true when the group holds a superblock (the primary in
	// group 0, else a backup) and a copy of the descriptor table.
	Super       bool
	BlockBitmap uint64
	InodeBitmap uint64
	InodeTable  uint64
}

// Layout is where an ext4 filesystem keeps its metadata: its geometry and,
// for every group, its superblock copy, bitmaps and inode table. It is
// what the engine allocates around, what attribution tells metadata
// blocks by and what the placement policy and the lower bound price. The
// journal, which lives in an inode, is not part of it.
type Layout struct {
	Geometry
	// Group holds each group's metadata, by group number.
	Group []GroupMeta
}

// NewLayout is the layout a superblock and its primary descriptor table
// (one descriptor per group) describe. It checks what GeometryOf checks.
func NewLayout(sb *Superblock, gds []GroupDesc) (*Layout, error) {
	geo, err := GeometryOf(sb)
	if err != nil {
		return nil, err
	}
	if len(gds) != int(geo.Groups) {
		return nil, fmt.Errorf("ext4: %d group descriptors for %d groups: %w", len(gds), geo.Groups, ErrGeometry)
	}
	l := &Layout{Geometry: geo, Group: make([]GroupMeta, len(gds))}
	for g := range gds {
		gd := &gds[g]
		l.Group[g] = GroupMeta{Super: HasSuper(sb, uint32(g)), BlockBitmap: gd.BlockBitmap(),
			InodeBitmap: gd.InodeBitmap(), InodeTable: gd.InodeTable()}
	}
	return l, nil
}

// HasSuper reports whether group g holds a superblock (and so a copy of
// the descriptor table and its reserved blocks), per sparse_super and
// sparse_super2: the rule e2fsprogs' ext2fs_bg_has_super follows.
func HasSuper(sb *Superblock, g uint32) bool {
	switch {
	case g == 0:
		return true
	case sb.FeatureCompat.Has(CompatSparseSuper2):
		return g == sb.BackupBgs[0] || g == sb.BackupBgs[1]
	case !sb.FeatureRoCompat.Has(RoCompatSparseSuper):
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

// group is group g's metadata; a group the layout does not have lies past
// the end of the filesystem.
func (l *Layout) group(g uint32) GroupMeta {
	if int(g) < len(l.Group) {
		return l.Group[g]
	}
	return GroupMeta{BlockBitmap: l.BlocksCount, InodeBitmap: l.BlocksCount, InodeTable: l.BlocksCount}
}

// BlockBitmap, InodeBitmap and InodeTable are group g's metadata blocks
// (BlocksCount, past the end, for a group that does not exist).
func (l *Layout) BlockBitmap(g uint32) uint64 { return l.group(g).BlockBitmap }
func (l *Layout) InodeBitmap(g uint32) uint64 { return l.group(g).InodeBitmap }
func (l *Layout) InodeTable(g uint32) uint64  { return l.group(g).InodeTable }

// InodeBlock is the inode-table block holding inode ino and the inode's
// byte offset in it.
func (l *Layout) InodeBlock(ino uint32) (blk uint64, off int) {
	g, i := l.GroupOfInode(ino)
	byteOff := uint64(i) * uint64(l.InodeSize)
	return l.InodeTable(g) + byteOff/uint64(l.BlockSize), int(byteOff % uint64(l.BlockSize))
}

// MetaKind is a kind of metadata structure.
type MetaKind uint8

const (
	MetaSuperblock  MetaKind = iota // a superblock, primary or backup
	MetaDescriptors                 // a descriptor table and its reserved blocks
	MetaBlockBitmap
	MetaInodeBitmap
	MetaInodeTable
)

var metaKindNames = [...]string{
	MetaSuperblock:  "superblock",
	MetaDescriptors: "group descriptors",
	MetaBlockBitmap: "block bitmap",
	MetaInodeBitmap: "inode bitmap",
	MetaInodeTable:  "inode table",
}

func (k MetaKind) String() string {
	if int(k) < len(metaKindNames) {
		return metaKindNames[k]
	}
	return fmt.Sprintf("metadata kind %d", k)
}

// MetaSpan is the blocks [Start, End) of one group's metadata structure.
type MetaSpan struct {
	Start, End uint64
	Kind       MetaKind
	Group      uint32
}

// MetadataSpans lists every group's metadata structures, sorted by start:
// superblocks, descriptor tables with their reserved blocks, bitmaps and
// inode tables, each cut at the end of the filesystem (and left out when
// it starts past it). Spans of a damaged layout may overlap.
func (l *Layout) MetadataSpans() []MetaSpan {
	s := make([]MetaSpan, 0, 5*len(l.Group))
	add := func(start, n uint64, k MetaKind, g uint32) {
		if start < l.BlocksCount && n > 0 {
			s = append(s, MetaSpan{start, min(start+n, l.BlocksCount), k, g})
		}
	}
	for i, gr := range l.Group {
		g := uint32(i)
		if gr.Super {
			first := l.GroupFirstBlock(g)
			if g == 0 {
				// The primary superblock is at byte 1024 (block 1 with
				// 1 KiB blocks, else block 0; block 0 of 1 KiB blocks is
				// the boot block).
				first = SuperblockOffset / uint64(l.BlockSize)
			}
			add(first, 1, MetaSuperblock, g)
			add(first+1, l.GdtBlocks+l.ReservedGdt, MetaDescriptors, g)
		}
		add(gr.BlockBitmap, 1, MetaBlockBitmap, g)
		add(gr.InodeBitmap, 1, MetaInodeBitmap, g)
		add(gr.InodeTable, l.ItableBlocks, MetaInodeTable, g)
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Start < s[j].Start })
	return s
}
