package blockmap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// naiveCost computes the cost from first principles: every differing byte
// marks its unit; every byte of a marked unit marks its chunk.
func naiveCost(a, b []byte, w, c int64) (units []int64, n int64) {
	size := int64(len(a))
	unitDirty := make([]bool, (size+w-1)/w)
	for i := range size {
		if a[i] != b[i] {
			unitDirty[i/w] = true
		}
	}
	chunkDirty := make([]bool, (size+c-1)/c)
	for i := range size {
		if unitDirty[i/w] && !chunkDirty[i/c] {
			chunkDirty[i/c] = true
			n++
		}
	}
	for u, dirty := range unitDirty {
		if dirty {
			units = append(units, int64(u))
		}
	}
	return units, n
}

// randImage returns size random bytes, eight at a time.
func randImage(rng *rand.Rand, size int64) []byte {
	a := make([]byte, (size+7)/8*8)
	for i := 0; i < len(a); i += 8 {
		binary.LittleEndian.PutUint64(a[i:], rng.Uint64())
	}
	return a[:size]
}

// diffRuns returns the exact byte runs where a and b differ.
func diffRuns(a, b []byte) []Range {
	var rs []Range
	for i := 0; i < len(a); i++ {
		if a[i] == b[i] {
			continue
		}
		j := i
		for j < len(a) && a[j] != b[j] {
			j++
		}
		rs = append(rs, Range{int64(i), int64(j - i)})
		i = j
	}
	return rs
}

// blockChanges lists whole blocks of bs bytes that hold a difference, like
// the overlay device does.
func blockChanges(a, b []byte, bs int) []Range {
	var rs []Range
	for off := 0; off < len(a); off += bs {
		end := min(off+bs, len(a))
		if !bytes.Equal(a[off:end], b[off:end]) {
			rs = append(rs, Range{Off: int64(off), Len: int64(end - off)})
		}
	}
	return rs
}

func equalUnits(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDiffProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	units := []int64{1, 512, 1000, 4096, 6144, 10000, 64 * kib, mib}
	chunks := []int64{4 * kib, 8 * kib, 64 * kib}
	for iter := 0; iter < 150; iter++ {
		size := 1 + rng.Int64N(mib+mib/2)
		if iter%10 == 0 {
			size = 1 + rng.Int64N(20*kib) // many tiny images, many edge units
		}
		m := Model{WriteUnit: units[rng.IntN(len(units))], Chunk: chunks[rng.IntN(len(chunks))], ImageSize: size}
		a := randImage(rng, size)
		b := bytes.Clone(a)
		for range rng.IntN(40) {
			off := rng.Int64N(size)
			n := min(1+rng.Int64N(9000), size-off)
			for i := off; i < off+n; i++ {
				b[i] = byte(rng.UintN(256))
			}
		}
		if rng.IntN(4) == 0 {
			b[size-1] ^= 1 // exercise the short last unit and chunk
		}
		wantUnits, wantN := naiveCost(a, b, m.WriteUnit, m.Chunk)
		want, err := m.Estimate(wantUnits)
		if err != nil {
			t.Fatal(err)
		}
		if want.ChunksWritten != wantN {
			t.Fatalf("iter %d %+v: Estimate N=%d, naive N=%d", iter, m, want.ChunksWritten, wantN)
		}
		check := func(what string, r Result, u []int64, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("iter %d %s: %v", iter, what, err)
			}
			if r != want || !equalUnits(u, wantUnits) {
				t.Fatalf("iter %d %+v %s:\ngot  %+v %v\nwant %+v %v", iter, m, what, r, u, want, wantUnits)
			}
		}
		r, u, err := Diff(bytes.NewReader(a), bytes.NewReader(b), size, Model{m.WriteUnit, m.Chunk, 0})
		check("Diff", r, u, err)
		known := DiffOptions{Differs: blockChanges(a, b, 4096)}
		r, u, err = DiffContext(context.Background(), bytes.NewReader(a), bytes.NewReader(b), size, m, known)
		check("DiffContext with the differing blocks", r, u, err)
		// Streaming every byte past an observer, the new image read only
		// where it differs: the observer still sees the new image.
		var seen []byte
		known.Window = func(_, new []byte) { seen = append(seen, new...) }
		r, u, err = DiffContext(context.Background(), bytes.NewReader(a), bytes.NewReader(b), size, m, known)
		check("DiffContext with the differing blocks and a window", r, u, err)
		if !bytes.Equal(seen, b) {
			t.Fatalf("iter %d: the window saw other bytes than the new image's", iter)
		}
		r, u, err = m.EstimateRanges(diffRuns(a, b))
		check("EstimateRanges", r, u, err)
		um, err := NewUnitMap(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range diffRuns(a, b) {
			if err := um.MarkRange(rg.Off, rg.Len); err != nil {
				t.Fatal(err)
			}
		}
		check("UnitMap", um.Result(), um.DirtyUnits(), nil)
	}
}

// shortReader is an image that ends early.
type shortReader struct{ n int64 }

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), s.n-off)
	clear(p[:k])
	if k < int64(len(p)) {
		return int(k), io.EOF
	}
	return int(k), nil
}

func TestDiffErrors(t *testing.T) {
	m := Model{WriteUnit: mib, Chunk: 4 * kib}
	z := shortReader{3 * mib}
	if _, _, err := Diff(z, shortReader{2 * mib}, 3*mib, m); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short image: got %v", err)
	}
	if _, _, err := Diff(z, z, 3*mib, Model{mib, 4 * kib, 2 * mib}); err == nil {
		t.Error("size disagreeing with the model: no error")
	}
	if _, _, err := Diff(z, z, 3*mib, Model{mib, 3 * kib, 0}); err == nil {
		t.Error("invalid model: no error")
	}
	r, u, err := Diff(z, z, 3*mib, m)
	if err != nil || len(u) != 0 || r.ChunksUsed != 2 {
		t.Errorf("equal images: %+v %v %v", r, u, err)
	}

	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	if err := os.WriteFile(p1, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p2, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := DiffFiles(p1, p2, m); err == nil {
		t.Error("files of different sizes: no error")
	}
	if _, _, err := DiffFiles(p1, filepath.Join(dir, "missing"), m); err == nil {
		t.Error("missing file: no error")
	}
	b := make([]byte, 8192)
	b[5000] = 1
	if err := os.WriteFile(p2, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, u, err = DiffFiles(p1, p2, Model{WriteUnit: 4096, Chunk: 4 * kib})
	if err != nil || !equalUnits(u, []int64{1}) || r.ChunksWritten != 1 {
		t.Errorf("DiffFiles: %+v %v %v", r, u, err)
	}
}

func BenchmarkDiff64MiB(b *testing.B) {
	const size = 64 << 20
	x := make([]byte, size)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] = byte(rng.UintN(256))
	}
	y := bytes.Clone(x)
	for i := 0; i < size; i += 3 << 20 {
		y[i] ^= 0xff
	}
	for _, w := range []int64{4 * kib, mib} {
		b.Run(map[int64]string{4 * kib: "W=4KiB", mib: "W=1MiB"}[w], func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if _, _, err := Diff(bytes.NewReader(x), bytes.NewReader(y), size, Model{WriteUnit: w, Chunk: 4 * kib}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDiffContextObservers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	size := int64(5*mib + 777)
	a := make([]byte, size)
	for i := range a {
		a[i] = byte(rng.UintN(256))
	}
	b := bytes.Clone(a)
	for i := int64(0); i < size; i += 300 * kib {
		b[i]++
	}
	m := Model{WriteUnit: 2 * mib, Chunk: 4 * kib}
	want, wantUnits, err := Diff(bytes.NewReader(a), bytes.NewReader(b), size, m)
	if err != nil {
		t.Fatal(err)
	}
	ha, hb := sha256.New(), sha256.New()
	var last int64
	got, units, err := DiffContext(context.Background(), bytes.NewReader(a), bytes.NewReader(b), size, m, DiffOptions{
		Window: func(o, n []byte) {
			if len(o) != len(n) {
				t.Fatalf("window lengths %d and %d", len(o), len(n))
			}
			ha.Write(o)
			hb.Write(n)
		},
		Progress: func(done int64) {
			if done <= last || done > size {
				t.Fatalf("progress %d after %d", done, last)
			}
			last = done
		},
	})
	if err != nil || got != want || !equalUnits(units, wantUnits) {
		t.Fatalf("DiffContext: %+v %v %v; want %+v %v", got, units, err, want, wantUnits)
	}
	if last != size {
		t.Errorf("progress ended at %d of %d", last, size)
	}
	if sa, sb := sha256.Sum256(a), sha256.Sum256(b); !bytes.Equal(ha.Sum(nil), sa[:]) || !bytes.Equal(hb.Sum(nil), sb[:]) {
		t.Error("Window did not see every byte in order")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := DiffContext(ctx, bytes.NewReader(a), bytes.NewReader(b), size, m, DiffOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled diff: %v", err)
	}
}
