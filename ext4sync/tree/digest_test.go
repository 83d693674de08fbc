package tree

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
)

// Digests taken from a stream agree with BlockDigest of the blocks that
// hold the same bytes, at every block size, short last blocks included.
func TestDigestsAgreeWithBlocks(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int64{0, 1, 1023, 1024, 1025, 4095, 4096, 4097, 70000} {
		content := make([]byte, size)
		for i := range content {
			if rng.Intn(3) == 0 { // mostly zeros, so some units are holes
				content[i] = byte(rng.Intn(256))
			}
		}
		// A zero unit in the middle.
		if size > 3*DigestUnit {
			clear(content[DigestUnit : 2*DigestUnit])
		}
		d, err := DigestReader(bytes.NewReader(content), size)
		if err != nil {
			t.Fatal(err)
		}
		if want := (size + DigestUnit - 1) / DigestUnit; d.N != want || d.Unit != DigestUnit {
			t.Fatalf("size %d: %d digests of %d, want %d", size, d.N, d.Unit, want)
		}
		for _, bs := range []int{1024, 2048, 4096, 65536} {
			got := d.Blocks(bs)
			if got.Unit != bs || got.N != (size+int64(bs)-1)/int64(bs) {
				t.Fatalf("size %d bs %d: %d blocks of %d", size, bs, got.N, got.Unit)
			}
			for k := 0; int64(k) < got.N; k++ {
				blk := make([]byte, bs)
				copy(blk, content[min(int64(k*bs), size):min(int64((k+1)*bs), size)])
				if want := BlockDigest(blk); got.At(int64(k)) != want {
					t.Fatalf("size %d bs %d block %d: digest %x, BlockDigest %x", size, bs, k, got.At(int64(k)), want)
				}
				if (got.At(int64(k)) == 0) != allZero(blk) {
					t.Fatalf("size %d bs %d block %d: digest %x but zero=%v", size, bs, k, got.At(int64(k)), allZero(blk))
				}
			}
		}
	}
}

func TestDigestsDistinguish(t *testing.T) {
	a, b := make([]byte, 4096), make([]byte, 4096)
	a[100], b[101] = 1, 1
	if BlockDigest(a) == BlockDigest(b) || BlockDigest(a) == 0 {
		t.Fatal("different blocks got the same digest")
	}
	if DigestUnitOf([]byte{0, 0, 0}) != 0 {
		t.Fatal("zero bytes must digest to 0")
	}
}

func TestDigestReaderShort(t *testing.T) {
	if _, err := DigestReader(bytes.NewReader(make([]byte, 10)), 20); err == nil {
		t.Fatal("short content accepted")
	}
}

// skipReader is a reader of zeros with data at the given offsets, that
// counts what it produced and what it was asked to skip.
type skipReader struct {
	size, pos     int64
	data          map[int64]byte
	read, skipped int64
}

func (r *skipReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.size-r.pos))
	clear(p[:n])
	for off, b := range r.data {
		if off >= r.pos && off < r.pos+int64(n) {
			p[off-r.pos] = b
		}
	}
	r.pos += int64(n)
	r.read += int64(n)
	return n, nil
}

func (r *skipReader) Skip(n int64) error {
	if r.pos+n > r.size {
		return io.ErrUnexpectedEOF
	}
	r.pos += n
	r.skipped += n
	return nil
}

// Issue 14, item 5: a file's apparent size drives neither the reading
// nor the digests' memory. A 4 TiB file with two data segments is read
// only where it holds data (the holes are skipped), its digests keep the
// two non-zero units, and its blocks agree with what a dense read of the
// same bytes gives.
func TestSparseDigestsFollowData(t *testing.T) {
	const size = 4 << 40
	n := &Node{Size: size, Data: []Segment{{Off: 5 << 30, Len: 4096}, {Off: size - 1000, Len: 1000}}}
	r := &skipReader{size: size, data: map[int64]byte{5<<30 + 100: 7, size - 1: 9}}
	d, err := DigestContent(n, r)
	if err != nil {
		t.Fatal(err)
	}
	if r.read > 2*readPiece || r.skipped < size-2*readPiece || r.pos != size {
		t.Fatalf("read %d bytes, skipped %d, at %d of %d", r.read, r.skipped, r.pos, size)
	}
	if d.N != size/DigestUnit || d.Len() != 2 || len(d.Runs) != 2 {
		t.Fatalf("digests: %d entries, %d non-zero in %d runs", d.N, d.Len(), len(d.Runs))
	}
	b := d.Blocks(4096)
	if b.Len() != 2 || b.At((5<<30)/4096) == 0 || b.At((size-1)/4096) == 0 || b.At(0) != 0 {
		t.Fatalf("block digests %+v", b.Runs)
	}
	blk := make([]byte, 4096)
	blk[100] = 7
	if b.At((5<<30)/4096) != BlockDigest(blk) {
		t.Fatal("block digest differs from BlockDigest of its bytes")
	}
	// Without Skip the holes are read and dropped, to the same digests.
	small := &Node{Size: 1 << 20, Data: []Segment{{Off: 300 << 10, Len: 10}}}
	plain := struct{ io.Reader }{&skipReader{size: 1 << 20, data: map[int64]byte{300<<10 + 3: 1}}}
	d2, err := DigestContent(small, plain)
	if err != nil {
		t.Fatal(err)
	}
	d3, err := DigestReader(&skipReader{size: 1 << 20, data: map[int64]byte{300<<10 + 3: 1}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Len() != 1 || d3.Len() != 1 || d2.At(300) != d3.At(300) || d2.At(300) == 0 {
		t.Fatalf("sparse %+v, dense %+v", d2.Runs, d3.Runs)
	}
}

// Spans round data segments out to the alignment and merge them.
func TestSpans(t *testing.T) {
	n := &Node{Size: 10000, Data: []Segment{{Off: 100, Len: 10}, {Off: 1500, Len: 10}, {Off: 5000, Len: 100}, {Off: 9990, Len: 10}}}
	got := Spans(n, 1024)
	want := []Segment{{0, 2048}, {4096, 1024}, {9216, 784}}
	if len(got) != len(want) {
		t.Fatalf("spans %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("spans %v, want %v", got, want)
		}
	}
	if s := Spans(&Node{Size: 5, Data: []Segment{}}, 1024); len(s) != 0 {
		t.Fatalf("all-hole spans %v", s)
	}
	if s := Spans(&Node{Size: 5}, 1024); len(s) != 1 || s[0] != (Segment{0, 5}) {
		t.Fatalf("dense spans %v", s)
	}
}
