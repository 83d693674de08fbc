package tarsource

import "io"

// endMarkerLen is the tar end-of-archive marker: two zero blocks.
const endMarkerLen = 2 * blockSize

// tailReader remembers the last endMarkerLen bytes read through it, so a
// clean io.EOF from archive/tar can be told apart from a stream that just
// stopped (archive/tar reports some truncations, e.g. inside a PAX header,
// as a plain end of archive).
type tailReader struct {
	r    io.Reader
	tail [endMarkerLen]byte
	n    int // valid bytes at the end of tail
}

func (t *tailReader) Read(p []byte) (int, error) {
	m, err := t.r.Read(p)
	t.remember(p[:m])
	return m, err
}

func (t *tailReader) remember(b []byte) {
	if len(b) >= endMarkerLen {
		copy(t.tail[:], b[len(b)-endMarkerLen:])
		t.n = endMarkerLen
		return
	}
	keep := endMarkerLen - len(b)
	copy(t.tail[:keep], t.tail[len(b):])
	copy(t.tail[keep:], b)
	t.n = min(t.n+len(b), endMarkerLen)
}

// sawEndMarker reports whether the last bytes read were the end marker.
func (t *tailReader) sawEndMarker() bool {
	if t.n < endMarkerLen {
		return false
	}
	for _, c := range t.tail {
		if c != 0 {
			return false
		}
	}
	return true
}

// seekTailReader is a tailReader over a seekable file, so archive/tar can
// seek over content it skips. A seek forgets the tail.
type seekTailReader struct {
	tailReader
	s io.Seeker
}

func (t *seekTailReader) Seek(off int64, whence int) (int64, error) {
	pos, err := t.s.Seek(off, whence)
	if off != 0 || whence != io.SeekCurrent {
		t.n = 0
	}
	return pos, err
}
