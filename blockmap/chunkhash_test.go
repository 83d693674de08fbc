package blockmap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

func randomImage(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// perChunk hashes b chunk by chunk with crypto/sha256 directly.
func perChunk(b []byte, chunk int) []ChunkHash {
	var out []ChunkHash
	for len(b) > 0 {
		k := min(len(b), chunk)
		out = append(out, HashChunk(b[:k]))
		b = b[k:]
	}
	return out
}

func TestHashChunkIsSHA256Prefix(t *testing.T) {
	data := []byte("lvm-um chunk")
	sum := sha256.Sum256(data)
	if got, want := HashChunk(data).String(), hex.EncodeToString(sum[:8]); got != want {
		t.Fatalf("HashChunk = %s, want %s (first 8 bytes of sha256)", got, want)
	}
}

// TestChunkHasherAgrees writes streams in pieces of every kind and checks
// that the streaming hasher, HashChunks (any read size, any worker count)
// and hashing each chunk directly agree, including a short last chunk and
// an empty stream.
func TestChunkHasherAgrees(t *testing.T) {
	const chunk = 4096
	for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 5*chunk + 17, 300 * chunk} {
		img := randomImage(uint64(size), size)
		want := perChunk(img, chunk)
		h, err := NewChunkHasher(chunk)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(size), 2))
		for rest := img; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(3*chunk))
			h.Write(rest[:k])
			rest = rest[k:]
		}
		if got := h.Sums(); !slices.Equal(got, want) || h.Written() != int64(size) {
			t.Fatalf("size %d: ChunkHasher gave %d hashes, want %d (or differ)", size, len(got), len(want))
		}
		for _, o := range []HashOptions{{}, {ReadSize: 1, Workers: 1}, {ReadSize: 3 * chunk, Workers: 3}, {ReadSize: 64 * chunk, Workers: 2}} {
			got, n, err := HashChunks(context.Background(), bytes.NewReader(img), chunk, o)
			if err != nil || n != int64(size) || !slices.Equal(got, want) {
				t.Fatalf("size %d, %+v: HashChunks gave %d hashes, %d bytes, %v", size, o, len(got), n, err)
			}
		}
	}
}

// countingReader records the size of every Read call.
type countingReader struct {
	r     io.Reader
	calls int
	small int // calls asking for less than a whole read buffer
	want  int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.calls++
	if len(p) < c.want {
		c.small++
	}
	return c.r.Read(p)
}

// TestHashChunksReadsLarge: hashing 16 MiB of 4 KiB chunks takes a few
// reads of the read size, not one per chunk.
func TestHashChunksReadsLarge(t *testing.T) {
	img := make([]byte, 16<<20)
	cr := &countingReader{r: bytes.NewReader(img), want: DefaultHashReadSize}
	sums, _, err := HashChunks(context.Background(), cr, 4096, HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 4096 {
		t.Fatalf("%d hashes, want 4096", len(sums))
	}
	if cr.calls > 16<<20/DefaultHashReadSize+1 || cr.small > 0 {
		t.Fatalf("%d reads (%d smaller than %d bytes) for 16 MiB", cr.calls, cr.small, DefaultHashReadSize)
	}
}

type failingReader struct{ after int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(len(p), f.after)
	f.after -= n
	return n, nil
}

func TestHashChunksErrors(t *testing.T) {
	_, n, err := HashChunks(context.Background(), &failingReader{after: 3 << 20}, 4096, HashOptions{ReadSize: 1 << 20})
	if err == nil || n != 3<<20 {
		t.Fatalf("read error: got %v after %d bytes", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := HashChunks(ctx, bytes.NewReader(make([]byte, 1<<20)), 4096, HashOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
	if _, _, err := HashChunks(context.Background(), bytes.NewReader(nil), 0, HashOptions{}); err == nil {
		t.Fatal("chunk 0 accepted")
	}
	if _, err := NewChunkHasher(-1); err == nil {
		t.Fatal("NewChunkHasher(-1) accepted")
	}
}

func BenchmarkHashChunks(b *testing.B) {
	img := randomImage(1, 64<<20)
	b.SetBytes(int64(len(img)))
	for b.Loop() {
		if _, _, err := HashChunks(context.Background(), bytes.NewReader(img), 4096, HashOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
