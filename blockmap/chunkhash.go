package blockmap

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
)

// ChunkHashSize is how many bytes of a chunk's SHA-256 a ChunkHash keeps.
const ChunkHashSize = 8

// ChunkHash names a snapshot chunk's content: the first 8 bytes of the
// SHA-256 of its bytes, read big-endian, so that fmt's %016x of it is
// the first 16 hex digits `sha256sum` prints for the same bytes. The last
// chunk of an image that is not a whole number of chunks is hashed over
// the bytes it has.
//
// It detects change, not attack: the artifact that carries these hashes
// is covered by its signature, and the device verifies the SHA-256 of the
// whole image it wrote. A collision (2^-64 per chunk) can only make the
// device's pre-flight figure miss one changed chunk.
type ChunkHash uint64

// HashChunk returns the ChunkHash of one chunk's bytes.
func HashChunk(b []byte) ChunkHash {
	sum := sha256.Sum256(b)
	return ChunkHash(binary.BigEndian.Uint64(sum[:ChunkHashSize]))
}

// String is the hash as 16 hex digits.
func (h ChunkHash) String() string { return fmt.Sprintf("%016x", uint64(h)) }

// ChunkHasher hashes a stream chunk by chunk: write the stream in pieces
// of any size, then Sums returns one hash per chunk. It keeps one SHA-256
// state and the hashes, never the data.
type ChunkHasher struct {
	chunk int64
	state interface {
		io.Writer
		Sum([]byte) []byte
		Reset()
	}
	fill    int64 // bytes of the current chunk written so far
	written int64
	sums    []ChunkHash
}

// NewChunkHasher returns a hasher for chunks of chunk bytes, which must
// be positive.
func NewChunkHasher(chunk int64) (*ChunkHasher, error) {
	if chunk <= 0 {
		return nil, fmt.Errorf("blockmap: chunk size %d: must be positive", chunk)
	}
	return &ChunkHasher{chunk: chunk, state: sha256.New()}, nil
}

// Write hashes p as the next bytes of the stream. It never fails.
func (h *ChunkHasher) Write(p []byte) (int, error) {
	n := len(p)
	h.written += int64(n)
	for len(p) > 0 {
		if h.fill == 0 && int64(len(p)) >= h.chunk {
			// A whole chunk at once: skip the streaming state.
			h.sums = append(h.sums, HashChunk(p[:h.chunk]))
			p = p[h.chunk:]
			continue
		}
		k := min(int64(len(p)), h.chunk-h.fill)
		h.state.Write(p[:k])
		h.fill += k
		p = p[k:]
		if h.fill == h.chunk {
			h.flush()
		}
	}
	return n, nil
}

func (h *ChunkHasher) flush() {
	var sum [sha256.Size]byte
	h.sums = append(h.sums, ChunkHash(binary.BigEndian.Uint64(h.state.Sum(sum[:0])[:ChunkHashSize])))
	h.state.Reset()
	h.fill = 0
}

// Written is the number of bytes hashed so far.
func (h *ChunkHasher) Written() int64 { return h.written }

// Sums ends the stream and returns the hash of every chunk, the last one
// possibly short. The hasher must not be written to afterwards.
func (h *ChunkHasher) Sums() []ChunkHash {
	if h.fill > 0 {
		h.flush()
	}
	return h.sums
}

// HashOptions tune HashChunks. The zero value is a good default.
type HashOptions struct {
	// ReadSize is the size of each read, rounded down to whole chunks
	// (at least one); 0 means DefaultHashReadSize.
	ReadSize int64
	// Workers is how many goroutines hash while the next read is under
	// way; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called with the bytes read so far after each
	// read.
	Progress func(done int64)
}

// DefaultHashReadSize is HashChunks' read size: large enough that a block
// device streams at full speed, small enough that Workers+2 buffers of it
// stay small on a device.
const DefaultHashReadSize = 4 << 20

// HashChunks reads r to its end, in reads of opts.ReadSize, and returns
// the ChunkHash of every chunk of chunk bytes (the last may be short) and
// the number of bytes read. Hashing runs on opts.Workers goroutines while
// the next read is under way, so hashing a device costs about one pass of
// reading it. Memory: (Workers+2) read buffers plus 8 bytes per chunk. It
// stops with ctx's error when ctx is cancelled.
func HashChunks(ctx context.Context, r io.Reader, chunk int64, opts HashOptions) ([]ChunkHash, int64, error) {
	if chunk <= 0 {
		return nil, 0, fmt.Errorf("blockmap: chunk size %d: must be positive", chunk)
	}
	readSize := opts.ReadSize
	if readSize <= 0 {
		readSize = DefaultHashReadSize
	}
	readSize = max(readSize/chunk, 1) * chunk
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	type job struct {
		seq  int
		buf  []byte
		n    int
		sums []ChunkHash
	}
	free := make(chan []byte, workers+2)
	for range workers + 2 {
		free <- nil // allocated on first use
	}
	jobs := make(chan *job, workers)
	done := make(chan *job, workers+2)
	for range workers {
		go func() {
			for j := range jobs {
				b := j.buf[:j.n]
				j.sums = make([]ChunkHash, 0, ceilDiv(int64(j.n), chunk))
				for len(b) > 0 {
					k := min(int64(len(b)), chunk)
					j.sums = append(j.sums, HashChunk(b[:k]))
					b = b[k:]
				}
				done <- j
			}
		}()
	}

	var (
		sums    []ChunkHash
		total   int64
		pending = map[int]*job{}
		next    int // next seq to append
		sent    int
		readErr error
	)
	collect := func(j *job) {
		pending[j.seq] = j
		for p, ok := pending[next]; ok; p, ok = pending[next] {
			sums = append(sums, p.sums...)
			delete(pending, next)
			free <- p.buf
			next++
		}
	}
	for eof := false; !eof && readErr == nil; {
		if err := ctx.Err(); err != nil {
			readErr = fmt.Errorf("blockmap: hashing stopped at byte %d: %w", total, err)
			break
		}
		var buf []byte
		select {
		case buf = <-free:
		case j := <-done:
			collect(j)
			continue
		}
		if buf == nil {
			buf = make([]byte, readSize)
		}
		n, err := io.ReadFull(r, buf)
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			eof = true
		case err != nil:
			readErr = fmt.Errorf("blockmap: read at byte %d: %w", total+int64(n), err)
		}
		if n == 0 || readErr != nil {
			free <- buf
			continue
		}
		total += int64(n)
		jobs <- &job{seq: sent, buf: buf, n: n}
		sent++
		if opts.Progress != nil {
			opts.Progress(total)
		}
	}
	close(jobs)
	for next < sent {
		collect(<-done)
	}
	if readErr != nil {
		return nil, total, readErr
	}
	return sums, total, nil
}
