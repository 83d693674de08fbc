package ext4sync

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// setKinds says what every block a path wrote is (written.Path.Kinds),
// from the inode each path was charged with, as the synced filesystem f
// holds it: a node of its extent tree, its xattr block, its data (a
// directory's or a file's), or none of these (an entry edit of its
// parent). An inode that cannot be read owns none of its blocks.
func setKinds(f *fs.FS, paths []written.Path) {
	inodes := make(map[uint32]*inodeBlocks)
	for i := range paths {
		p := &paths[i]
		ib := inodes[p.Ino]
		if ib == nil {
			ib = loadInodeBlocks(f, p.Ino)
			inodes[p.Ino] = ib
		}
		p.Kinds = make([]written.Kind, len(p.Blocks))
		for j, b := range p.Blocks {
			p.Kinds[j] = ib.kind(b)
		}
	}
}

// inodeBlocks is what one inode owns.
type inodeBlocks struct {
	dir   bool
	xattr uint64
	tree  *extent.Tree
	nodes map[uint64]bool
}

func loadInodeBlocks(f *fs.FS, ino uint32) *inodeBlocks {
	ib := &inodeBlocks{}
	if ino == 0 {
		return ib
	}
	in, err := f.ReadInode(ino)
	if err != nil || in.LinksCount == 0 {
		return ib
	}
	ib.dir, ib.xattr = in.IsDir(), in.FileACL()
	if in.Flags&disk.FlagExtents == 0 {
		return ib
	}
	t, err := extent.Read(in.Block[:], f.BlockReader(), f.ExtentOptions(ino, in.Generation, false))
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

func (ib *inodeBlocks) kind(blk uint64) written.Kind {
	switch {
	case ib.nodes[blk]:
		return written.ExtentTree
	case ib.xattr != 0 && blk == ib.xattr:
		return written.XattrBlock
	case ib.tree != nil && ib.owns(blk):
		if ib.dir {
			return written.DirectoryData
		}
		return written.Data
	}
	return written.Entries
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
