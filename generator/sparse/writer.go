package sparse

import (
	"fmt"
	"io"
)

// Writer writes a sparse image to a stream, chunk by chunk: the header
// first (so the number of chunks must be known in advance; Plan counts
// them), then each chunk as it is added. A RAW chunk's data is written
// with Write after Raw, in pieces of any size. Close checks that the
// chunks covered every block and that their number matched the header.
type Writer struct {
	w       io.Writer
	h       Header
	chunks  uint32
	block   int64 // blocks covered so far
	rawLeft int64 // bytes of the current RAW chunk's data still to come
	err     error
}

// NewWriter checks h and writes the file header to w.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	if _, err := w.Write(h.marshal()); err != nil {
		return nil, err
	}
	return &Writer{w: w, h: h}, nil
}

// start writes the header of the next chunk.
func (w *Writer) start(c Chunk) error {
	if w.err != nil {
		return w.err
	}
	if w.rawLeft > 0 {
		return w.fail(fmt.Errorf("sparse: chunk %d started with %d bytes of the RAW chunk before it missing", w.chunks, w.rawLeft))
	}
	if w.chunks == w.h.TotalChunks {
		return w.fail(fmt.Errorf("sparse: more than the %d chunks the header announced", w.h.TotalChunks))
	}
	if c.Blocks <= 0 || c.Blocks > MaxChunkBlocks(c.Type, w.h.BlockSize) || c.Blocks > int64(w.h.TotalBlocks)-w.block {
		return w.fail(fmt.Errorf("sparse: %s chunk of %d blocks at block %d of %d: empty, too long or past the end",
			c.Type, c.Blocks, w.block, w.h.TotalBlocks))
	}
	if _, err := w.w.Write(c.header(w.h.BlockSize)); err != nil {
		return w.fail(err)
	}
	w.chunks++
	w.block += c.Blocks
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Raw starts a RAW chunk of blocks blocks; its blocks*BlockSize bytes of
// data follow through Write.
func (w *Writer) Raw(blocks int64) error {
	if err := w.start(Chunk{Type: Raw, Blocks: blocks}); err != nil {
		return err
	}
	w.rawLeft = blocks * int64(w.h.BlockSize)
	return nil
}

// Write writes data of the current RAW chunk; writing more than it holds
// is an error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if int64(len(p)) > w.rawLeft {
		return 0, w.fail(fmt.Errorf("sparse: %d bytes of RAW data where %d remain in the chunk", len(p), w.rawLeft))
	}
	n, err := w.w.Write(p)
	w.rawLeft -= int64(n)
	if err != nil {
		return n, w.fail(err)
	}
	return n, nil
}

// Fill writes a FILL chunk: pattern repeated over blocks blocks.
func (w *Writer) Fill(blocks int64, pattern [4]byte) error {
	if err := w.start(Chunk{Type: Fill, Blocks: blocks}); err != nil {
		return err
	}
	if _, err := w.w.Write(pattern[:]); err != nil {
		return w.fail(err)
	}
	return nil
}

// DontCare writes a DONT_CARE chunk of blocks blocks.
func (w *Writer) DontCare(blocks int64) error {
	return w.start(Chunk{Type: DontCare, Blocks: blocks})
}

// Close checks that the image is complete. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.rawLeft > 0 {
		return w.fail(fmt.Errorf("sparse: the last RAW chunk misses %d bytes", w.rawLeft))
	}
	if w.chunks != w.h.TotalChunks || w.block != int64(w.h.TotalBlocks) {
		return w.fail(fmt.Errorf("sparse: wrote %d chunks over %d blocks, the header announced %d over %d",
			w.chunks, w.block, w.h.TotalChunks, w.h.TotalBlocks))
	}
	return nil
}
