package extent

import (
	"encoding/binary"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// On-disk sizes and limits of extent trees.
const (
	Magic        = 0xF30A // eh_magic
	HeaderSize   = 12     // struct ext4_extent_header
	EntrySize    = 12     // struct ext4_extent and struct ext4_extent_idx
	TailSize     = 4      // struct ext4_extent_tail (et_checksum)
	RootSize     = 60     // i_block
	RootMax      = (RootSize - HeaderSize) / EntrySize
	MaxDepth     = 5 // EXT4_MAX_EXTENT_DEPTH
	MaxInitLen   = 32768
	MaxUninitLen = MaxInitLen - 1
	// maxSlack is how far below the computed maximum eh_max may be: e2fsck
	// allows two entries' room at the end of a block.
	maxSlack = 2
	// startHiShift places ee_start_hi / ei_leaf_hi above the low 32 bits.
	startHiShift = 32
	// MaxPhysical is one past the largest block number an entry can hold
	// (48 bits).
	MaxPhysical = uint64(1) << 48
	// maxLogicalEnd is one past the largest logical block (2^32).
	maxLogicalEnd = uint64(1) << 32
)

// Header is struct ext4_extent_header, at the start of i_block and of every
// tree block.
type Header struct {
	Magic      uint16 // 0x0 eh_magic
	Entries    uint16 // 0x2 eh_entries
	Max        uint16 // 0x4 eh_max
	Depth      uint16 // 0x6 eh_depth (0 = leaf)
	Generation uint32 // 0x8 eh_generation
}

// Leaf is struct ext4_extent, an entry of a depth-0 node.
type Leaf struct {
	Block   uint32 // 0x0 ee_block: first logical block
	Len     uint16 // 0x4 ee_len: > MaxInitLen means uninitialized
	StartHi uint16 // 0x6 ee_start_hi
	StartLo uint32 // 0x8 ee_start_lo
}

// Index is struct ext4_extent_idx, an entry of a node with depth > 0.
type Index struct {
	Block  uint32 // 0x0 ei_block: first logical block of the child
	LeafLo uint32 // 0x4 ei_leaf_lo: child node block
	LeafHi uint16 // 0x8 ei_leaf_hi
	Unused uint16 // 0xA ei_unused
}

// DecodeHeader reads a header from the first HeaderSize bytes of b.
func DecodeHeader(b []byte) Header {
	return Header{
		Magic:      binary.LittleEndian.Uint16(b[0x0:]),
		Entries:    binary.LittleEndian.Uint16(b[0x2:]),
		Max:        binary.LittleEndian.Uint16(b[0x4:]),
		Depth:      binary.LittleEndian.Uint16(b[0x6:]),
		Generation: binary.LittleEndian.Uint32(b[0x8:]),
	}
}

// Put writes h into the first HeaderSize bytes of b.
func (h Header) Put(b []byte) {
	binary.LittleEndian.PutUint16(b[0x0:], h.Magic)
	binary.LittleEndian.PutUint16(b[0x2:], h.Entries)
	binary.LittleEndian.PutUint16(b[0x4:], h.Max)
	binary.LittleEndian.PutUint16(b[0x6:], h.Depth)
	binary.LittleEndian.PutUint32(b[0x8:], h.Generation)
}

// DecodeLeaf reads a leaf entry from the first EntrySize bytes of b.
func DecodeLeaf(b []byte) Leaf {
	return Leaf{
		Block:   binary.LittleEndian.Uint32(b[0x0:]),
		Len:     binary.LittleEndian.Uint16(b[0x4:]),
		StartHi: binary.LittleEndian.Uint16(b[0x6:]),
		StartLo: binary.LittleEndian.Uint32(b[0x8:]),
	}
}

// Put writes e into the first EntrySize bytes of b.
func (e Leaf) Put(b []byte) {
	binary.LittleEndian.PutUint32(b[0x0:], e.Block)
	binary.LittleEndian.PutUint16(b[0x4:], e.Len)
	binary.LittleEndian.PutUint16(b[0x6:], e.StartHi)
	binary.LittleEndian.PutUint32(b[0x8:], e.StartLo)
}

// Start is the first physical block of the extent.
func (e Leaf) Start() uint64 { return uint64(e.StartHi)<<startHiShift | uint64(e.StartLo) }

// Uninit reports whether the extent is uninitialized (reads as zeros).
func (e Leaf) Uninit() bool { return e.Len > MaxInitLen }

// Length is the number of blocks the extent maps.
func (e Leaf) Length() uint32 {
	if e.Len > MaxInitLen {
		return uint32(e.Len) - MaxInitLen
	}
	return uint32(e.Len)
}

// leafOf encodes a mapping that already respects the length limits.
func leafOf(m Mapping) Leaf {
	n := uint16(m.Len)
	if m.Uninit {
		n = uint16(m.Len + MaxInitLen)
	}
	return Leaf{Block: m.Logical, Len: n, StartHi: uint16(m.Physical >> startHiShift), StartLo: uint32(m.Physical)}
}

// DecodeIndex reads an index entry from the first EntrySize bytes of b.
func DecodeIndex(b []byte) Index {
	return Index{
		Block:  binary.LittleEndian.Uint32(b[0x0:]),
		LeafLo: binary.LittleEndian.Uint32(b[0x4:]),
		LeafHi: binary.LittleEndian.Uint16(b[0x8:]),
		Unused: binary.LittleEndian.Uint16(b[0xA:]),
	}
}

// Put writes x into the first EntrySize bytes of b.
func (x Index) Put(b []byte) {
	binary.LittleEndian.PutUint32(b[0x0:], x.Block)
	binary.LittleEndian.PutUint32(b[0x4:], x.LeafLo)
	binary.LittleEndian.PutUint16(b[0x8:], x.LeafHi)
	binary.LittleEndian.PutUint16(b[0xA:], x.Unused)
}

// Child is the block number of the node the index entry points at.
func (x Index) Child() uint64 { return uint64(x.LeafHi)<<startHiShift | uint64(x.LeafLo) }

// BlockMax is eh_max for a tree block of the given size: (size-12)/12, as
// the kernel and e2fsck compute it. The checksum tail fits after the last
// entry because block sizes are powers of two (size % 12 >= 4).
func BlockMax(blockSize int) int { return (blockSize - HeaderSize) / EntrySize }

// tailOffset is where the checksum tail of a node with the given eh_max
// lives: right after the last possible entry.
func tailOffset(max uint16) int { return HeaderSize + EntrySize*int(max) }

// Checksum is the checksum of tree block b as its tail should hold it:
// crc32c(inode seed, b up to the tail), the tail sitting right after the
// eh_max-th entry. seed is disk.InodeSeed(fsSeed, ino, generation).
func Checksum(seed uint32, b []byte) (uint32, error) {
	if len(b) < HeaderSize {
		return 0, fmt.Errorf("extent: checksum: block of %d bytes has no header", len(b))
	}
	off := tailOffset(DecodeHeader(b).Max)
	if off+TailSize > len(b) {
		return 0, fmt.Errorf("extent: checksum: tail at %d does not fit a block of %d bytes", off, len(b))
	}
	return disk.Crc32c(seed, b[:off]), nil
}

// putChecksum stores the checksum of node b, whose eh_max is known to fit
// the block, in its tail.
func putChecksum(seed uint32, b []byte) {
	off := tailOffset(DecodeHeader(b).Max)
	binary.LittleEndian.PutUint32(b[off:], disk.Crc32c(seed, b[:off]))
}
