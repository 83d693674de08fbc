package attrib

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// InodeReader is what InodeKinds reads an image through; *fs.FS has it.
type InodeReader interface {
	Geometry() disk.Geometry
	ReadInode(ino uint32) (*disk.Inode, error)
	ReadBlock(blk uint64) ([]byte, error)
	HasMetadataCsum() bool
	InodeSeed(ino, gen uint32) uint32
}

// InodeKinds returns a KindOf that reads each inode once from f: a block
// in its extent tree's nodes is ExtentTree, its xattr block XattrBlock,
// its data Directory or FileData by its type. A block that is none of
// these is Directory: the only writes the sync charges to a path outside
// its own inode's blocks are directory-entry edits of its parent
// (removing a path rewrites the parent's entry block).
func InodeKinds(f InodeReader) KindOf {
	return &inodeKinds{f: f, cache: make(map[uint32]*inodeBlocks)}
}

type inodeKinds struct {
	f     InodeReader
	cache map[uint32]*inodeBlocks
}

// inodeBlocks is what one inode owns.
type inodeBlocks struct {
	dir   bool
	xattr uint64
	tree  *extent.Tree
	nodes map[uint64]bool
}

// blockReader adapts InodeReader to extent.Reader.
type blockReader struct{ f InodeReader }

func (r blockReader) BlockSize() int                     { return int(r.f.Geometry().BlockSize) }
func (r blockReader) ReadBlock(b uint64) ([]byte, error) { return r.f.ReadBlock(b) }

func (k *inodeKinds) load(ino uint32) *inodeBlocks {
	if ib, ok := k.cache[ino]; ok {
		return ib
	}
	ib := &inodeBlocks{}
	k.cache[ino] = ib
	if ino == 0 {
		return ib
	}
	in, err := k.f.ReadInode(ino)
	if err != nil || in.LinksCount == 0 {
		return ib
	}
	ib.dir, ib.xattr = in.IsDir(), in.FileACL()
	if in.Flags&disk.FlagExtents == 0 {
		return ib
	}
	g := k.f.Geometry()
	t, err := extent.Read(in.Block[:], blockReader{k.f}, extent.Options{Ino: ino, Csum: k.f.HasMetadataCsum(),
		Seed: k.f.InodeSeed(ino, in.Generation), FirstDataBlock: g.FirstDataBlock, BlocksCount: g.BlocksCount})
	if err != nil {
		return ib
	}
	ib.tree = t
	ib.nodes = make(map[uint64]bool, len(t.Nodes))
	for _, n := range t.Nodes {
		ib.nodes[n] = true
	}
	return ib
}

// BlockCategory implements KindOf.
func (k *inodeKinds) BlockCategory(ino uint32, blk uint64) Category {
	ib := k.load(ino)
	switch {
	case ib.nodes[blk]:
		return ExtentTree
	case ib.xattr != 0 && blk == ib.xattr:
		return XattrBlock
	case ib.tree != nil && ib.owns(blk):
		if ib.dir {
			return Directory
		}
		return FileData
	}
	return Directory
}

// owns reports whether blk is one of the inode's data blocks.
func (ib *inodeBlocks) owns(blk uint64) bool {
	for _, m := range ib.tree.Mappings {
		if blk >= m.Physical && blk-m.Physical < uint64(m.Len) {
			return true
		}
	}
	return false
}
