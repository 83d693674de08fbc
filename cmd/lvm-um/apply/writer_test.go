package apply

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// memVolume is a volume in memory that records its writes.
type memVolume struct {
	data   []byte
	writes [][2]int64 // offset, length
	reads  int
}

func (v *memVolume) ReadAt(p []byte, off int64) (int, error) {
	v.reads++
	if off >= int64(len(v.data)) {
		return 0, io.EOF
	}
	n := copy(p, v.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (v *memVolume) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > int64(len(v.data)) {
		return 0, errors.New("write past the end")
	}
	v.writes = append(v.writes, [2]int64{off, int64(len(p))})
	return copy(v.data[off:], p), nil
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// differingUnits lists the units of size w in which a and b differ.
func differingUnits(a, b []byte, w int64) []int64 {
	var out []int64
	for off := int64(0); off < int64(len(a)); off += w {
		end := min(off+w, int64(len(a)))
		if !bytes.Equal(a[off:end], b[off:end]) {
			out = append(out, off/w)
		}
	}
	return out
}

// TestFullImageWritesOnlyDifferingUnits streams a whole new image over a
// volume holding the old one and checks that the volume ends up equal to
// the new image, that exactly the differing units were written (each
// whole, in runs), and that the cost is the model's for those units.
func TestFullImageWritesOnlyDifferingUnits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name             string
		size, unit, win  int64
		volExtra         int
		changes, maxSpan int
	}{
		{"W=C=4KiB", 1<<20 + 4096*3, 4096, 64 << 10, 0, 40, 9000},
		{"W=1MiB", 5<<20 + 12345, 1 << 20, 0, 4096, 6, 3000},
		{"W=64KiB tail", 3<<20 + 100, 64 << 10, 256 << 10, 777, 20, 70000},
		{"no change", 2 << 20, 4096, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := randomBytes(r, int(tc.size))
			img := slices.Clone(old)
			for range tc.changes {
				off := r.IntN(len(img))
				n := 1 + r.IntN(tc.maxSpan)
				for i := off; i < min(off+n, len(img)); i++ {
					img[i] ^= 0x5a
				}
			}
			vol := &memVolume{data: append(slices.Clone(old), randomBytes(r, tc.volExtra)...)}
			tail := slices.Clone(vol.data[tc.size:])
			m := blockmap.Model{WriteUnit: tc.unit, Chunk: 4096, ImageSize: tc.size}
			w, err := New(vol, m, tc.win)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.ReadFrom(0, tc.size, bytes.NewReader(img)); err != nil {
				t.Fatal(err)
			}
			res, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(vol.data[:tc.size], img) || !bytes.Equal(vol.data[tc.size:], tail) {
				t.Fatal("volume does not hold the new image (or its tail changed)")
			}
			want := differingUnits(old, img, tc.unit)
			var got []int64
			for _, wr := range vol.writes {
				if wr[0]%tc.unit != 0 || (wr[1]%tc.unit != 0 && wr[0]+wr[1] != tc.size) {
					t.Errorf("write %d+%d is not whole units", wr[0], wr[1])
				}
				for u := wr[0] / tc.unit; u*tc.unit < wr[0]+wr[1]; u++ {
					got = append(got, u)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("wrote units %v, want %v", got, want)
			}
			wantRes, _ := m.Estimate(want)
			if res != wantRes {
				t.Errorf("cost %+v, want %+v", res, wantRes)
			}
		})
	}
}

// TestSparsePieces applies RAW, FILL and untouched ranges, the way a
// delta arrives, and checks the volume and the units written.
func TestSparsePieces(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const size = 1 << 20
	old := randomBytes(r, size)
	vol := &memVolume{data: slices.Clone(old)}
	m := blockmap.Model{WriteUnit: 16 << 10, Chunk: 4096, ImageSize: size}
	w, err := New(vol, m, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(old)
	raw := randomBytes(r, 10000)
	copy(want[5000:], raw)
	if err := w.ReadFrom(5000, int64(len(raw)), bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	pat := [4]byte{1, 2, 3, 4}
	for i := 0; i < 200000; i++ {
		want[70001+i] = pat[i%4]
	}
	if err := w.Fill(70001, 200000, pat); err != nil {
		t.Fatal(err)
	}
	same := slices.Clone(old[600000:610000]) // equal bytes: no write
	if err := w.Put(600000, same); err != nil {
		t.Fatal(err)
	}
	copy(want[size-3:], "xyz")
	if err := w.Put(size-3, []byte("xyz")); err != nil {
		t.Fatal(err)
	}
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vol.data, want) {
		t.Fatal("volume does not hold the expected image")
	}
	if wantUnits := differingUnits(old, want, m.WriteUnit); !slices.Equal(w.Written(), wantUnits) {
		t.Errorf("wrote %v, want %v", w.Written(), wantUnits)
	}
	if res.UnitsChanged != int64(len(w.Written())) {
		t.Errorf("result %+v", res)
	}
}

func TestWriterRefusesBadPieces(t *testing.T) {
	m := blockmap.Model{WriteUnit: 4096, Chunk: 4096, ImageSize: 1 << 16}
	newW := func() (*Writer, *memVolume) {
		vol := &memVolume{data: make([]byte, 1<<16)}
		w, err := New(vol, m, 0)
		if err != nil {
			t.Fatal(err)
		}
		return w, vol
	}
	w, _ := newW()
	if err := w.Put(100, []byte("ab")); err != nil {
		t.Fatal(err)
	}
	if err := w.Put(101, []byte("c")); !errors.Is(err, ErrOrder) {
		t.Errorf("overlap: %v", err)
	}
	if _, err := w.Close(); err == nil {
		t.Error("Close after a failed piece succeeded")
	}
	w, _ = newW()
	if err := w.Put(1<<16-1, []byte("ab")); err == nil || !strings.Contains(err.Error(), "past the image") {
		t.Errorf("past the end: %v", err)
	}
	w, vol := newW()
	err := w.ReadFrom(0, 1<<16, bytes.NewReader(make([]byte, 100)))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short stream: %v", err)
	}
	if len(vol.writes) != 0 {
		t.Errorf("a failed stream wrote %v", vol.writes)
	}
	// A volume shorter than the image fails on read, not silently.
	short := &memVolume{data: make([]byte, 1000)}
	w, err = New(short, m, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ReadFrom(0, 1<<16, bytes.NewReader(make([]byte, 1<<16))); err == nil {
		t.Error("a volume shorter than the image was accepted")
	}
}

func TestChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	data := randomBytes(r, DefaultWindow*2+1234)
	vol := &memVolume{data: data}
	got, err := Checksum(vol, int64(len(data))-7)
	if err != nil {
		t.Fatal(err)
	}
	if got != sha256.Sum256(data[:len(data)-7]) {
		t.Error("checksum differs from sha256")
	}
	if _, err := Checksum(vol, int64(len(data))+1); err == nil {
		t.Error("a short volume was read back without error")
	}
}
