package sparse

import (
	"bytes"
	"fmt"
	"io"
)

// Extent is Blocks blocks of an image from block Block.
type Extent struct {
	Block, Blocks int64
}

// planBuf bounds the memory Plan and Write read the image with.
const planBuf = 1 << 20

// Plan lays out the sparse image of src (imageBytes, a whole number of
// blockSize blocks) that carries only the extents in carry (ascending,
// disjoint, inside the image) and says DONT_CARE everywhere else. Inside
// the carried extents, a block that is one 4-byte pattern repeated
// becomes (part of) a FILL chunk, the rest RAW; neighbouring blocks of
// the same kind share a chunk, and chunks longer than the format allows
// are split. It reads only the carried bytes, in pieces of at most 1 MiB,
// and returns the header and the chunks to give Write.
func Plan(src io.ReaderAt, imageBytes int64, blockSize uint32, carry []Extent) (Header, []Chunk, error) {
	bs := int64(blockSize)
	if blockSize == 0 || blockSize%4 != 0 || imageBytes < 0 || imageBytes%bs != 0 || imageBytes/bs > 1<<32-1 {
		return Header{}, nil, fmt.Errorf("sparse: an image of %d bytes is not a whole number (< 2^32) of %d-byte blocks", imageBytes, blockSize)
	}
	total := imageBytes / bs
	var chunks []Chunk
	add := func(c Chunk) {
		if k := len(chunks) - 1; k >= 0 {
			p := &chunks[k]
			if p.Type == c.Type && p.Pattern == c.Pattern && p.Block+p.Blocks == c.Block &&
				p.Blocks+c.Blocks <= MaxChunkBlocks(c.Type, blockSize) {
				p.Blocks += c.Blocks
				return
			}
		}
		chunks = append(chunks, c)
	}
	buf := make([]byte, max(planBuf/bs, 1)*bs)
	next := int64(0)
	for _, e := range carry {
		if e.Blocks <= 0 || e.Block < next || e.Block+e.Blocks > total {
			return Header{}, nil, fmt.Errorf("sparse: extent of %d blocks at block %d: empty, unsorted, overlapping or past the image's %d blocks",
				e.Blocks, e.Block, total)
		}
		if e.Block > next {
			addDontCare(add, next, e.Block-next)
		}
		for b := e.Block; b < e.Block+e.Blocks; {
			n := min(int64(len(buf))/bs, e.Block+e.Blocks-b)
			data := buf[:n*bs]
			if _, err := src.ReadAt(data, b*bs); err != nil {
				return Header{}, nil, fmt.Errorf("sparse: read image at byte %d: %w", b*bs, err)
			}
			for i := int64(0); i < n; i++ {
				blk := data[i*bs : (i+1)*bs]
				c := Chunk{Type: Raw, Block: b + i, Blocks: 1}
				if bytes.Equal(blk[4:], blk[:len(blk)-4]) {
					c.Type = Fill
					copy(c.Pattern[:], blk)
				}
				add(c)
			}
			b += n
		}
		next = e.Block + e.Blocks
	}
	if next < total {
		addDontCare(add, next, total-next)
	}
	h := Header{BlockSize: blockSize, TotalBlocks: uint32(total), TotalChunks: uint32(len(chunks))}
	return h, chunks, nil
}

func addDontCare(add func(Chunk), block, blocks int64) {
	for blocks > 0 {
		n := min(blocks, MaxChunkBlocks(DontCare, 0))
		add(Chunk{Type: DontCare, Block: block, Blocks: n})
		block, blocks = block+n, blocks-n
	}
}

// Write writes the sparse image Plan laid out to w, reading RAW data from
// src in pieces of at most 1 MiB. It returns the bytes written.
func Write(w io.Writer, src io.ReaderAt, h Header, chunks []Chunk) (int64, error) {
	cw := &countingWriter{w: w}
	sw, err := NewWriter(cw, h)
	if err != nil {
		return cw.n, err
	}
	bs := int64(h.BlockSize)
	buf := make([]byte, max(planBuf/bs, 1)*bs)
	for _, c := range chunks {
		switch c.Type {
		case Raw:
			if err := sw.Raw(c.Blocks); err != nil {
				return cw.n, err
			}
			for b := c.Block; b < c.Block+c.Blocks; {
				n := min(int64(len(buf))/bs, c.Block+c.Blocks-b)
				if _, err := src.ReadAt(buf[:n*bs], b*bs); err != nil {
					return cw.n, fmt.Errorf("sparse: read image at byte %d: %w", b*bs, err)
				}
				if _, err := sw.Write(buf[:n*bs]); err != nil {
					return cw.n, err
				}
				b += n
			}
		case Fill:
			err = sw.Fill(c.Blocks, c.Pattern)
		case DontCare:
			err = sw.DontCare(c.Blocks)
		default:
			err = fmt.Errorf("sparse: cannot write a %s chunk", c.Type)
		}
		if err != nil {
			return cw.n, err
		}
	}
	return cw.n, sw.Close()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
