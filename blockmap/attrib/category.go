package attrib

import (
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

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

// metaCategory is the category of a kind of metadata structure.
var metaCategory = [...]Category{
	disk.MetaSuperblock:  Superblock,
	disk.MetaDescriptors: GroupDescriptors,
	disk.MetaBlockBitmap: BlockBitmap,
	disk.MetaInodeBitmap: InodeBitmap,
	disk.MetaInodeTable:  InodeTable,
}

// metaIndex finds the metadata category of a block: the layout's spans
// (sorted by start), and the largest end of each prefix (spans of a
// damaged layout may overlap).
type metaIndex struct {
	spans  []disk.MetaSpan
	maxEnd []uint64
}

func newMetaIndex(l *disk.Layout) metaIndex {
	s := l.MetadataSpans()
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
			return metaCategory[m.spans[i].Kind], true
		}
	}
	return "", false
}
