package sparse

import (
	"errors"
	"fmt"
	"io"
)

// expandBuf bounds the memory Expand uses for data and fill patterns.
const expandBuf = 1 << 20

// Expand reads a sparse image from r and writes its RAW and FILL chunks
// at their offsets in dst, leaving the bytes under DONT_CARE chunks as
// they are: over a copy of the base, a delta's expansion is the new
// image. check, if not nil, is called with every chunk before anything of
// it is written (a device refuses chunks its manifest does not list
// there). Memory stays under 1 MiB whatever the image holds.
func Expand(r io.Reader, dst io.WriterAt, check func(h Header, c Chunk) error) (Header, error) {
	sr, err := NewReader(r)
	if err != nil {
		return Header{}, err
	}
	h := sr.Header()
	bs := int64(h.BlockSize)
	buf := make([]byte, min(expandBuf, max(bs, 4)))
	for {
		c, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		if check != nil {
			if err := check(h, c); err != nil {
				return h, err
			}
		}
		off, n := c.Block*bs, c.Blocks*bs
		switch c.Type {
		case Raw:
			for done := int64(0); done < n; {
				k, err := io.ReadFull(sr, buf[:min(int64(len(buf)), n-done)])
				if err != nil {
					if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
						err = invalid("truncated in a RAW chunk at block %d", c.Block)
					}
					return h, err
				}
				if _, err := dst.WriteAt(buf[:k], off+done); err != nil {
					return h, fmt.Errorf("sparse: write at byte %d: %w", off+done, err)
				}
				done += int64(k)
			}
		case Fill:
			pat := buf[:len(buf)/4*4]
			for i := 0; i < len(pat); i += 4 {
				copy(pat[i:], c.Pattern[:])
			}
			for done := int64(0); done < n; {
				k := min(int64(len(pat)), n-done)
				if _, err := dst.WriteAt(pat[:k], off+done); err != nil {
					return h, fmt.Errorf("sparse: write at byte %d: %w", off+done, err)
				}
				done += k
			}
		}
	}
}
