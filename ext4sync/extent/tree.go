package extent

// Mapping is one run of a file: Len blocks from logical block Logical live at
// physical block Physical. Uninit runs are allocated but read as zeros.
type Mapping struct {
	Logical  uint32
	Physical uint64
	Len      uint32
	Uninit   bool
}

// End is one past the last logical block of the run.
func (m Mapping) End() uint64 { return uint64(m.Logical) + uint64(m.Len) }

// Reader is the block device the tree's nodes are read from.
type Reader interface {
	BlockSize() int
	ReadBlock(blk uint64) ([]byte, error)
}

// Store is a Reader that can also write node blocks back.
type Store interface {
	Reader
	WriteBlock(blk uint64, b []byte) error
}

// Allocator hands out and takes back filesystem blocks for tree nodes. The
// caller owns the bitmaps, group counters and i_blocks.
type Allocator interface {
	// AllocBlock returns a free block, as near goal as it can, marked used.
	AllocBlock(goal uint64) (uint64, error)
	// FreeBlock marks blk free.
	FreeBlock(blk uint64) error
}

// Options describes the inode and the filesystem around a tree.
type Options struct {
	Ino            uint32 // inode number, for error messages
	Csum           bool   // metadata_csum: tree blocks carry a checksum tail
	Seed           uint32 // disk.InodeSeed(fsSeed, Ino, i_generation)
	FirstDataBlock uint64 // s_first_data_block: lowest valid block
	BlocksCount    uint64 // s_blocks_count: one past the highest valid block
	// Metadata, when set, names the filesystem metadata (superblock,
	// descriptors, bitmaps, inode tables, journal) among blocks
	// [start, start+n), or returns "" when there is none. Read refuses node
	// and data blocks it names: writing the file would overwrite them.
	Metadata func(start, n uint64) string
}

// Tree is an extent tree as read from disk or as built.
type Tree struct {
	// Root is the inode's i_block.
	Root [RootSize]byte
	// Depth is the root's eh_depth (0: all extents in the inode).
	Depth int
	// Mappings are the file's runs sorted by logical block, one per extent.
	Mappings []Mapping
	// Nodes are the index and leaf blocks in tree (depth-first) order. The
	// caller counts them in i_blocks and marks them in use.
	Nodes []uint64
	// Levels holds the same node blocks grouped by eh_depth: Levels[0] the
	// leaves left to right, Levels[1] the index blocks above them, and so
	// on. Build reuses old nodes level by level.
	Levels [][]uint64
	// Entries is eh_entries of every node in Levels (same shape).
	Entries [][]int
}

// NodeCount is the number of tree blocks outside the inode.
func (t *Tree) NodeCount() int { return len(t.Nodes) }
