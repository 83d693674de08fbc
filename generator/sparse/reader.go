package sparse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Reader reads a sparse image from a stream, chunk by chunk, holding
// nothing but the current chunk's header: Next returns each chunk in
// order, and Read returns a RAW chunk's data. Any content error wraps
// ErrInvalid (see the package doc for what is checked).
type Reader struct {
	r       io.Reader
	h       Header
	extra   int64 // bytes to skip after each chunk header
	chunks  uint32
	block   int64
	rawLeft int64
	done    bool
	err     error
}

// readFull reads len(b) bytes; a stream that ends first is a truncated
// sparse image.
func readFull(r io.Reader, b []byte, what string) error {
	_, err := io.ReadFull(r, b)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("truncated in %s", what)
	}
	return err
}

// skip discards n bytes of r.
func skip(r io.Reader, n int64, what string) error {
	if n == 0 {
		return nil
	}
	got, err := io.CopyN(io.Discard, r, n)
	if got < n && (err == nil || errors.Is(err, io.EOF)) {
		return invalid("truncated in %s", what)
	}
	return err
}

// NewReader reads and checks the file header.
func NewReader(r io.Reader) (*Reader, error) {
	b := make([]byte, FileHeaderSize)
	if err := readFull(r, b, "the file header"); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if m := le.Uint32(b[0:]); m != Magic {
		return nil, invalid("magic %#08x, want %#08x: not an Android sparse image", m, uint32(Magic))
	}
	if v := le.Uint16(b[4:]); v != MajorVersion {
		return nil, invalid("major version %d, want %d", v, MajorVersion)
	}
	fileHdr, chunkHdr := le.Uint16(b[8:]), le.Uint16(b[10:])
	if fileHdr < FileHeaderSize || chunkHdr < ChunkHeaderSize {
		return nil, invalid("header sizes %d and %d: at least %d and %d", fileHdr, chunkHdr, FileHeaderSize, ChunkHeaderSize)
	}
	h := Header{BlockSize: le.Uint32(b[12:]), TotalBlocks: le.Uint32(b[16:]), TotalChunks: le.Uint32(b[20:]), Checksum: le.Uint32(b[24:])}
	if err := h.check(); err != nil {
		return nil, err
	}
	if err := skip(r, int64(fileHdr-FileHeaderSize), "the file header"); err != nil {
		return nil, err
	}
	return &Reader{r: r, h: h, extra: int64(chunkHdr - ChunkHeaderSize)}, nil
}

// Header is the file header.
func (r *Reader) Header() Header { return r.h }

// Next returns the next chunk, skipping what is left of the previous
// chunk's data. After the last chunk it checks that the chunks covered
// the whole image and that nothing follows, and returns io.EOF.
func (r *Reader) Next() (Chunk, error) {
	if r.err != nil {
		return Chunk{}, r.err
	}
	if r.done {
		return Chunk{}, io.EOF
	}
	if err := skip(r.r, r.rawLeft, fmt.Sprintf("chunk %d's data", r.chunks-1)); err != nil {
		return Chunk{}, r.fail(err)
	}
	r.rawLeft = 0
	if r.chunks == r.h.TotalChunks {
		return Chunk{}, r.fail(r.end())
	}
	c, err := r.chunk()
	if err != nil {
		return Chunk{}, r.fail(err)
	}
	return c, nil
}

// end checks the image is complete and the stream ends with it.
func (r *Reader) end() error {
	if r.block != int64(r.h.TotalBlocks) {
		return invalid("%d chunks cover %d of the image's %d blocks", r.chunks, r.block, r.h.TotalBlocks)
	}
	var one [1]byte
	n, err := io.ReadFull(r.r, one[:])
	if n > 0 {
		return invalid("bytes after the last of %d chunks", r.chunks)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	r.done = true
	return io.EOF
}

func (r *Reader) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return r.err
}

// chunk reads one chunk header (and a FILL's pattern) and checks it.
func (r *Reader) chunk() (Chunk, error) {
	k := r.chunks
	b := make([]byte, ChunkHeaderSize)
	if err := readFull(r.r, b, fmt.Sprintf("chunk %d's header", k)); err != nil {
		return Chunk{}, err
	}
	if err := skip(r.r, r.extra, fmt.Sprintf("chunk %d's header", k)); err != nil {
		return Chunk{}, err
	}
	le := binary.LittleEndian
	c := Chunk{Type: ChunkType(le.Uint16(b[0:])), Block: r.block, Blocks: int64(le.Uint32(b[4:]))}
	total := int64(le.Uint32(b[8:]))
	switch c.Type {
	case Raw, Fill, DontCare:
	case CRC32:
		return Chunk{}, invalid("chunk %d: CRC32 chunks are not supported", k)
	default:
		return Chunk{}, invalid("chunk %d: unknown %s", k, c.Type)
	}
	if c.Blocks == 0 {
		return Chunk{}, invalid("chunk %d: %s of 0 blocks", k, c.Type)
	}
	if c.Blocks > int64(r.h.TotalBlocks)-r.block {
		return Chunk{}, invalid("chunk %d: %s of %d blocks at block %d runs past the image's %d blocks",
			k, c.Type, c.Blocks, r.block, r.h.TotalBlocks)
	}
	if want := int64(ChunkHeaderSize) + r.extra + c.dataBytes(r.h.BlockSize); total != want {
		return Chunk{}, invalid("chunk %d: %s of %d blocks says it is %d bytes, want %d", k, c.Type, c.Blocks, total, want)
	}
	if c.Type == Fill {
		if err := readFull(r.r, c.Pattern[:], fmt.Sprintf("chunk %d's fill pattern", k)); err != nil {
			return Chunk{}, err
		}
	}
	if c.Type == Raw {
		r.rawLeft = c.dataBytes(r.h.BlockSize)
	}
	r.chunks++
	r.block += c.Blocks
	return c, nil
}

// Read reads the current RAW chunk's data; it returns io.EOF at the end
// of the chunk (and at once for other chunk types).
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.rawLeft == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.rawLeft {
		p = p[:r.rawLeft]
	}
	n, err := r.r.Read(p)
	r.rawLeft -= int64(n)
	if errors.Is(err, io.EOF) && r.rawLeft > 0 {
		return n, r.fail(invalid("truncated in chunk %d's data", r.chunks-1))
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, r.fail(err)
	}
	return n, nil
}
