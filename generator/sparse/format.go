// Package sparse reads and writes the Android sparse image format, the
// payload of an lvm-um-delta artifact, streaming and in bounded memory.
//
// The format (AOSP system/core libsparse/sparse_format.h; Debian's
// android-sdk-libsparse-utils reads it with simg2img and simg_dump) is
// little-endian:
//
//	file header, 28 bytes:
//	  u32 magic 0xed26ff3a, u16 major 1, u16 minor 0,
//	  u16 file header size 28, u16 chunk header size 12,
//	  u32 block size (a multiple of 4), u32 total blocks of the image,
//	  u32 total chunks, u32 image checksum (0: none)
//	then total-chunks chunks, each a 12-byte header:
//	  u16 type, u16 reserved, u32 size in blocks,
//	  u32 total bytes of the chunk, header included
//	and its data:
//	  RAW       0xCAC1: size*block-size bytes of image data
//	  FILL      0xCAC2: a 4-byte pattern repeated over size blocks
//	  DONT_CARE 0xCAC3: nothing; in a delta, "same as the base"
//	  CRC32     0xCAC4: a checksum (refused by this reader; never written)
//
// The chunks tile the image in order: chunk k starts where chunk k-1
// ended, so chunks cannot overlap, and together they cover exactly total
// blocks.
//
// The Reader is strict, because a device applies what it reads: a wrong
// magic or major version, a block size that is 0 or not a multiple of 4,
// a chunk of 0 blocks or past the image's end, a chunk whose total bytes
// disagree with its type and size, too few or too many chunks or blocks,
// a truncated stream, or bytes after the last chunk are errors wrapping
// ErrInvalid, never a panic. Larger header sizes than 28 and 12 are
// accepted (their extra bytes skipped), as libsparse does.
package sparse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Format constants.
const (
	Magic           = 0xed26ff3a
	MajorVersion    = 1
	MinorVersion    = 0
	FileHeaderSize  = 28
	ChunkHeaderSize = 12
)

// ChunkType is a chunk header's type field.
type ChunkType uint16

// The chunk types.
const (
	Raw      ChunkType = 0xCAC1
	Fill     ChunkType = 0xCAC2
	DontCare ChunkType = 0xCAC3
	CRC32    ChunkType = 0xCAC4
)

func (t ChunkType) String() string {
	switch t {
	case Raw:
		return "RAW"
	case Fill:
		return "FILL"
	case DontCare:
		return "DONT_CARE"
	case CRC32:
		return "CRC32"
	}
	return fmt.Sprintf("type %#04x", uint16(t))
}

// ErrInvalid is wrapped by every error about the content of a sparse
// image (as opposed to an I/O error of the stream it is read from).
var ErrInvalid = errors.New("invalid sparse image")

func invalid(format string, a ...any) error {
	return fmt.Errorf("sparse: %w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Header is the file header's variable part.
type Header struct {
	BlockSize   uint32
	TotalBlocks uint32
	TotalChunks uint32
	// Checksum is the header's image checksum; 0 (what Writer writes)
	// means none. The Reader does not check it.
	Checksum uint32
}

// ImageBytes is the size of the image the sparse file describes.
func (h Header) ImageBytes() int64 { return int64(h.BlockSize) * int64(h.TotalBlocks) }

// check is what Reader and Writer both demand of a header.
func (h Header) check() error {
	if h.BlockSize == 0 || h.BlockSize%4 != 0 {
		return invalid("block size %d: must be a positive multiple of 4", h.BlockSize)
	}
	if uint64(h.BlockSize)*uint64(h.TotalBlocks) > math.MaxInt64 {
		return invalid("%d blocks of %d bytes: the image's size overflows", h.TotalBlocks, h.BlockSize)
	}
	if h.TotalChunks > h.TotalBlocks {
		return invalid("%d chunks for %d blocks: every chunk covers at least one block", h.TotalChunks, h.TotalBlocks)
	}
	return nil
}

func (h Header) marshal() []byte {
	b := make([]byte, FileHeaderSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], Magic)
	le.PutUint16(b[4:], MajorVersion)
	le.PutUint16(b[6:], MinorVersion)
	le.PutUint16(b[8:], FileHeaderSize)
	le.PutUint16(b[10:], ChunkHeaderSize)
	le.PutUint32(b[12:], h.BlockSize)
	le.PutUint32(b[16:], h.TotalBlocks)
	le.PutUint32(b[20:], h.TotalChunks)
	le.PutUint32(b[24:], h.Checksum)
	return b
}

// Chunk is one chunk: Blocks blocks of the image from block Block.
type Chunk struct {
	Type   ChunkType
	Block  int64
	Blocks int64
	// Pattern is a FILL chunk's 4 bytes, repeated from the chunk's
	// first byte.
	Pattern [4]byte
}

// dataBytes is the bytes that follow a chunk's header.
func (c Chunk) dataBytes(blockSize uint32) int64 {
	switch c.Type {
	case Raw:
		return c.Blocks * int64(blockSize)
	case Fill, CRC32:
		return 4
	}
	return 0
}

// MaxChunkBlocks is the most blocks one chunk of the given type may
// cover: the chunk header's u32 total-bytes field must hold a RAW chunk's
// data.
func MaxChunkBlocks(t ChunkType, blockSize uint32) int64 {
	if t == Raw && blockSize > 0 {
		return (maxChunkBytes - ChunkHeaderSize) / int64(blockSize)
	}
	return 1<<32 - 1
}

// maxChunkBytes is the largest chunk the u32 total-bytes field holds (a
// variable so a test can split runs without writing 4 GiB).
var maxChunkBytes int64 = 1<<32 - 1

func (c Chunk) header(blockSize uint32) []byte {
	b := make([]byte, ChunkHeaderSize)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(c.Type))
	le.PutUint32(b[4:], uint32(c.Blocks))
	le.PutUint32(b[8:], uint32(ChunkHeaderSize+c.dataBytes(blockSize)))
	return b
}
