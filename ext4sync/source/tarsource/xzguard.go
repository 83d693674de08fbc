package tarsource

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// xzMaxDict bounds the LZMA2 dictionary an xz block may ask for, like
// zstdMaxWindow (xz -9 uses 64 MiB). The decoder allocates the dictionary
// a block header declares, up to 4 GiB, before it decodes a byte.
const xzMaxDict = 256 << 20

// The .xz container format, as far as xzGuard reads it.
const (
	xzStreamHeaderLen = 12
	xzStreamFooterLen = 12
	xzCRC32Len        = 4
	xzAlign           = 4    // blocks, the index and stream padding are multiples of 4 bytes
	xzFlagsReserved   = 0x3C // block flags bits 2-5
	xzFlagCompSize    = 0x40 // block flags: compressed size present
	xzFlagUncompSize  = 0x80 // block flags: uncompressed size present
	xzFilterLZMA2     = 0x21
	xzMaxVarint       = 9
	lzma2DictMaxCode  = 40
)

// LZMA2 chunk control bytes (the compressed data of every xz block).
const (
	lzma2End          = 0x00
	lzma2Uncompressed = 0x02 // 0x01 and 0x02: a stored chunk
	lzma2LZMA         = 0x80 // 0x80 and up: an LZMA chunk
	lzma2NewProps     = 0xC0 // 0xC0 and up: the chunk header carries a properties byte
)

// xzPart is the next structure of the container xzGuard expects.
type xzPart uint8

const (
	xzStream      xzPart = iota // a stream header; after the first, stream padding or the end
	xzBlock                     // a block header or the index indicator
	xzChunk                     // an LZMA2 chunk header or the LZMA2 end marker
	xzIndexCount                // the number of index records
	xzIndexRecord               // an index record (unpadded and uncompressed size)
)

// xzGuard passes an xz file through unchanged, parsing its container as it
// goes: stream headers, block headers, LZMA2 chunk headers (whose sizes say
// where each block ends) and the index. It refuses a block whose LZMA2
// dictionary exceeds xzMaxDict before the decoder reads that block's
// header, so the decoder never allocates it. Integrity (CRCs, checks, the
// index's agreement with the blocks) is left to the decoder.
type xzGuard struct {
	r       *bufio.Reader
	part    xzPart
	pending []byte // parsed structure bytes not yet handed on
	skip    int64  // opaque bytes (chunk data, padding, checks) to pass before the next structure
	err     error  // sticky
	off     int64  // bytes of the file parsed so far
	streams int    // stream headers seen
	check   int    // check field length of the current stream
	block   int64  // compressed bytes of the current block so far
	index   int64  // bytes of the current index so far
	records uint64 // index records still to read
}

func newXzGuard(r *bufio.Reader) *xzGuard { return &xzGuard{r: r} }

func (g *xzGuard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(g.pending) == 0 && g.skip == 0 {
		if g.err != nil {
			return 0, g.err
		}
		g.err = g.next()
	}
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	n, err := g.r.Read(p[:min(int64(len(p)), g.skip)])
	g.skip -= int64(n)
	if err == io.EOF && g.skip > 0 {
		err = io.ErrUnexpectedEOF // the parse says more bytes follow
	} else if err == io.EOF {
		err = nil // the next structure reports the end, if it is one
	}
	return n, err
}

// next parses the structure g.part names into g.pending (and g.skip).
func (g *xzGuard) next() error {
	switch g.part {
	case xzStream:
		return g.streamHeader()
	case xzBlock:
		return g.blockHeader()
	case xzChunk:
		return g.chunk()
	case xzIndexCount:
		return g.indexCount()
	default:
		return g.indexRecord()
	}
}

// take reads n structure bytes.
func (g *xzGuard) take(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.r, b); err != nil {
		return nil, unexpected(err)
	}
	return b, nil
}

// emit queues parsed bytes for the decoder.
func (g *xzGuard) emit(b []byte) {
	g.pending = b
	g.off += int64(len(b))
}

// pass queues n opaque bytes for the decoder.
func (g *xzGuard) pass(n int64) {
	g.skip = n
	g.off += n
}

// streamHeader reads a stream header, or after the first stream four
// bytes of stream padding, or finds the end of the file.
func (g *xzGuard) streamHeader() error {
	h := make([]byte, xzStreamHeaderLen)
	n, err := io.ReadFull(g.r, h[:xzAlign])
	if g.streams > 0 && n == 0 && err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return unexpected(err)
	}
	if g.streams > 0 && bytes.Equal(h[:xzAlign], make([]byte, xzAlign)) {
		g.emit(h[:xzAlign])
		return nil
	}
	if _, err := io.ReadFull(g.r, h[xzAlign:]); err != nil {
		return unexpected(err)
	}
	if !bytes.Equal(h[:len(magicXz)], magicXz) || h[6] != 0 || h[7] > 0x0F {
		return fmt.Errorf("xz: bad stream header at byte %d", g.off)
	}
	g.check = xzCheckLen(h[7])
	g.streams++
	g.part = xzBlock
	g.emit(h)
	return nil
}

// xzCheckLen is the size of the check field for check type id.
func xzCheckLen(id byte) int {
	if id == 0 {
		return 0
	}
	return 4 << ((id - 1) / 3)
}

// blockHeader reads a block header and checks its dictionary, or starts
// the index.
func (g *xzGuard) blockHeader() error {
	size, err := g.r.ReadByte()
	if err != nil {
		return unexpected(err)
	}
	if size == 0 { // index indicator
		g.index = 1
		g.part = xzIndexCount
		g.emit([]byte{size})
		return nil
	}
	h := make([]byte, (int(size)+1)*4)
	h[0] = size
	if _, err := io.ReadFull(g.r, h[1:]); err != nil {
		return unexpected(err)
	}
	dict, err := lzma2Dict(h[1 : len(h)-xzCRC32Len])
	if err != nil {
		return fmt.Errorf("xz block header at byte %d: %v", g.off, err)
	}
	if dict > xzMaxDict {
		return fmt.Errorf("xz block at byte %d: LZMA2 dictionary of %d MiB, over the %d MiB limit: %w",
			g.off, dict>>20, xzMaxDict>>20, ErrDictTooLarge)
	}
	g.block = 0
	g.part = xzChunk
	g.emit(h)
	return nil
}

// lzma2Dict finds the LZMA2 filter's dictionary size in a block header's
// flags, optional sizes and filter flags.
func lzma2Dict(h []byte) (uint64, error) {
	flags := h[0]
	if flags&xzFlagsReserved != 0 {
		return 0, fmt.Errorf("reserved flags %#02x", flags)
	}
	p := h[1:]
	for _, bit := range []byte{xzFlagCompSize, xzFlagUncompSize} {
		if flags&bit == 0 {
			continue
		}
		_, n := binary.Uvarint(p)
		if n <= 0 || n > xzMaxVarint {
			return 0, errors.New("bad size field")
		}
		p = p[n:]
	}
	var dict uint64
	found := false
	for range int(flags&3) + 1 {
		id, n := binary.Uvarint(p)
		if n <= 0 || n > xzMaxVarint {
			return 0, errors.New("bad filter id")
		}
		p = p[n:]
		size, n := binary.Uvarint(p)
		if n <= 0 || n > xzMaxVarint || size > uint64(len(p)-n) {
			return 0, errors.New("bad filter properties size")
		}
		props := p[n : n+int(size)]
		p = p[n+int(size):]
		if id != xzFilterLZMA2 {
			continue
		}
		if size != 1 || props[0] > lzma2DictMaxCode {
			return 0, fmt.Errorf("bad LZMA2 properties % x", props)
		}
		dict, found = lzma2DictSize(props[0]), true
	}
	if !found {
		return 0, errors.New("no LZMA2 filter")
	}
	return dict, nil
}

// lzma2DictSize decodes an LZMA2 dictionary size byte (at most 40).
func lzma2DictSize(c byte) uint64 {
	if c == lzma2DictMaxCode {
		return 1<<32 - 1
	}
	return uint64(2|c&1) << (c/2 + 11)
}

// chunk reads an LZMA2 chunk header and passes its data on, or at the end
// marker passes the block's padding and check.
func (g *xzGuard) chunk() error {
	c, err := g.r.ReadByte()
	if err != nil {
		return unexpected(err)
	}
	var h []byte
	var data int64
	switch {
	case c == lzma2End:
		h = []byte{c}
		g.block++
		g.part = xzBlock
		g.emit(h)
		g.pass(int64(pad4(g.block) + g.check))
		return nil
	case c <= lzma2Uncompressed:
		rest, err := g.take(2)
		if err != nil {
			return err
		}
		h = append([]byte{c}, rest...)
		data = int64(binary.BigEndian.Uint16(rest)) + 1
	case c >= lzma2LZMA:
		n := 4
		if c >= lzma2NewProps {
			n++
		}
		rest, err := g.take(n)
		if err != nil {
			return err
		}
		h = append([]byte{c}, rest...)
		data = int64(binary.BigEndian.Uint16(rest[2:])) + 1
	default:
		return fmt.Errorf("xz: bad LZMA2 chunk control byte %#02x at byte %d", c, g.off)
	}
	g.block += int64(len(h)) + data
	g.emit(h)
	g.pass(data)
	return nil
}

// indexCount reads the number of index records.
func (g *xzGuard) indexCount() error {
	n, b, err := g.varint()
	if err != nil {
		return err
	}
	g.records = n
	g.part = xzIndexRecord
	g.emit(b)
	g.endIndex()
	return nil
}

// indexRecord reads one index record's two sizes.
func (g *xzGuard) indexRecord() error {
	_, b1, err := g.varint()
	if err != nil {
		return err
	}
	_, b2, err := g.varint()
	if err != nil {
		return err
	}
	g.records--
	g.emit(append(b1, b2...))
	g.endIndex()
	return nil
}

// endIndex, once every record is read, passes the index padding, CRC32
// and the stream footer, and expects what follows a stream.
func (g *xzGuard) endIndex() {
	if g.records == 0 {
		g.part = xzStream
		g.pass(int64(pad4(g.index) + xzCRC32Len + xzStreamFooterLen))
	}
}

// varint reads an index integer and counts its bytes in the index.
func (g *xzGuard) varint() (uint64, []byte, error) {
	var b []byte
	for {
		c, err := g.r.ReadByte()
		if err != nil {
			return 0, nil, unexpected(err)
		}
		b = append(b, c)
		if c < 0x80 {
			break
		}
		if len(b) == xzMaxVarint {
			return 0, nil, fmt.Errorf("xz: index integer over %d bytes at byte %d", xzMaxVarint, g.off)
		}
	}
	v, _ := binary.Uvarint(b)
	g.index += int64(len(b))
	return v, b, nil
}

// pad4 is how many bytes align n to a multiple of four.
func pad4(n int64) int { return int(-n & (xzAlign - 1)) }

// unexpected turns an end of file inside a structure into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
