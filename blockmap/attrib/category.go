package attrib

import "sort"

// Category is why a block changed.
type Category string

// The categories, in the order reports list them.
const (
	FileData         Category = "file data"
	Directory        Category = "directory"
	ExtentTree       Category = "extent tree"
	XattrBlock       Category = "xattr block"
	InodeTable       Category = "inode table"
	BlockBitmap      Category = "block bitmap"
	InodeBitmap      Category = "inode bitmap"
	GroupDescriptors Category = "group descriptors"
	Superblock       Category = "superblock"
	Other            Category = "other"
)

// categoryOrder is every category in report order.
var categoryOrder = [...]Category{FileData, Directory, ExtentTree, XattrBlock, InodeTable,
	BlockBitmap, InodeBitmap, GroupDescriptors, Superblock, Other}

// Categories lists every category in report order.
func Categories() []Category { return append([]Category(nil), categoryOrder[:]...) }

// rank is a category's place in Categories (ties break in that order).
func rank(c Category) int {
	for i, x := range categoryOrder {
		if x == c {
			return i
		}
	}
	return len(categoryOrder)
}

// Metadata reports whether c is filesystem metadata rather than something
// a file owns.
func (c Category) Metadata() bool {
	switch c {
	case InodeTable, BlockBitmap, InodeBitmap, GroupDescriptors, Superblock:
		return true
	}
	return false
}

// Span is a run of metadata blocks [Start, End) of one category.
type Span struct {
	Start, End uint64
	Category   Category
}

// MetadataSpans lists where the filesystem keeps its metadata, sorted by
// start: superblocks (primary and backups), descriptor tables with their
// reserved blocks, bitmaps and inode tables. Spans of a damaged layout may
// overlap.
func (l *Layout) MetadataSpans() []Span {
	var s []Span
	bs := uint64(l.BlockSize)
	add := func(start, n uint64, c Category) {
		if start < l.BlocksCount && n > 0 {
			s = append(s, Span{start, min(start+n, l.BlocksCount), c})
		}
	}
	for g := range l.Groups {
		gr := l.Groups[g]
		if gr.Super {
			first := l.GroupFirstBlock(uint32(g))
			if g == 0 {
				first = superblockOffset / bs // block 0 with 1 KiB blocks is the boot block
			}
			add(first, 1, Superblock)
			add(first+1, l.GdtBlocks+l.ReservedGdt, GroupDescriptors)
		}
		add(gr.BlockBitmap, 1, BlockBitmap)
		add(gr.InodeBitmap, 1, InodeBitmap)
		add(gr.InodeTable, l.ItableBlocks, InodeTable)
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Start < s[j].Start })
	return s
}

// superblockOffset is the byte offset of the primary superblock.
const superblockOffset = 1024

// metaIndex finds the metadata category of a block: spans sorted by
// start, and the largest end of each prefix (spans of a damaged layout may
// overlap).
type metaIndex struct {
	spans  []Span
	maxEnd []uint64
}

func newMetaIndex(s []Span) metaIndex {
	m := metaIndex{spans: s, maxEnd: make([]uint64, len(s))}
	for i, sp := range s {
		m.maxEnd[i] = sp.End
		if i > 0 {
			m.maxEnd[i] = max(m.maxEnd[i], m.maxEnd[i-1])
		}
	}
	return m
}

// of returns blk's metadata category, if it is metadata; where spans
// overlap, the one starting last wins.
func (m metaIndex) of(blk uint64) (Category, bool) {
	i := sort.Search(len(m.spans), func(i int) bool { return m.spans[i].Start > blk }) - 1
	for ; i >= 0 && m.maxEnd[i] > blk; i-- {
		if blk < m.spans[i].End {
			return m.spans[i].Category, true
		}
	}
	return "", false
}
