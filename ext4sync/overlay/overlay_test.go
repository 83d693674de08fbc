package overlay

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func randBytes(rng *rand.Rand, n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// wantBlocks is the naive list of blocks where model differs from base.
func wantBlocks(base, model []byte, bs int64) []int64 {
	var out []int64
	for off := int64(0); off < int64(len(base)); off += bs {
		end := min(off+bs, int64(len(base)))
		if !bytes.Equal(base[off:end], model[off:end]) {
			out = append(out, off/bs)
		}
	}
	return out
}

// checkDevice compares everything the device reports with the model.
func checkDevice(t *testing.T, d *Device, base, model []byte) {
	t.Helper()
	want := wantBlocks(base, model, d.BlockSize())
	if got := d.ChangedBlocks(); !slices.Equal(got, want) {
		t.Fatalf("changed blocks %v, want %v", got, want)
	}
	var covered int64
	last := int64(-1)
	d.Changed(func(start, n int64) {
		if start <= last || n <= 0 || start+n > d.Size() {
			t.Fatalf("Changed range %d+%d after %d is not ascending, disjoint and inside the device", start, n, last)
		}
		last = start + n
		covered += n
	})
	var wantCovered int64
	for _, b := range want {
		wantCovered += d.blockLen(b)
	}
	if covered != wantCovered {
		t.Fatalf("Changed covers %d bytes, want %d", covered, wantCovered)
	}
	var out bytes.Buffer
	if n, err := d.WriteTo(&out); err != nil || n != int64(len(model)) {
		t.Fatalf("WriteTo: %d, %v", n, err)
	}
	if !bytes.Equal(out.Bytes(), model) {
		t.Fatal("WriteTo differs from the model")
	}
}

func TestRandomWritesMatchModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		bs   int
		mem  int64
	}{
		{"memory 4K", 4096, 0},
		{"partial spill 1K", 1024, 3 * 1024},
		{"all spill 4K", 4096, -1},
		{"odd block size", 1000, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.bs), uint64(tc.mem+7)))
			size := int64(37*tc.bs + 300) // a short last block
			base := randBytes(rng, size)
			model := bytes.Clone(base)
			tmp := t.TempDir()
			d := New(bytes.NewReader(base), size, Options{BlockSize: tc.bs, MemLimit: tc.mem, TempDir: tmp})
			for op := 0; op < 3000; op++ {
				off := rng.Int64N(size)
				n := min(rng.Int64N(int64(3*tc.bs)), size-off)
				var p []byte
				switch rng.IntN(4) {
				case 0: // revert to base
					p = bytes.Clone(base[off : off+n])
				case 1: // what the device already holds
					p = bytes.Clone(model[off : off+n])
				case 2: // sparse change: a few bytes differ
					p = bytes.Clone(model[off : off+n])
					for range 3 {
						if n > 0 {
							p[rng.Int64N(n)] ^= byte(1 + rng.UintN(255))
						}
					}
				default:
					p = randBytes(rng, n)
				}
				if k, err := d.WriteAt(p, off); err != nil || k != len(p) {
					t.Fatalf("op %d: WriteAt(%d bytes, %d) = %d, %v", op, n, off, k, err)
				}
				copy(model[off:], p)

				roff := rng.Int64N(size + 10)
				got := make([]byte, rng.Int64N(int64(3*tc.bs)))
				k, err := d.ReadAt(got, roff)
				wantN := max(0, min(int64(len(got)), size-roff))
				if int64(k) != wantN || (wantN < int64(len(got)) && err != io.EOF) || (wantN == int64(len(got)) && err != nil) {
					t.Fatalf("op %d: ReadAt(%d, %d) = %d, %v; want %d", op, len(got), roff, k, err, wantN)
				}
				if !bytes.Equal(got[:k], model[roff:roff+int64(k)]) {
					t.Fatalf("op %d: ReadAt(%d, %d) differs from the model", op, len(got), roff)
				}
				if op%300 == 0 {
					checkDevice(t, d, base, model)
				}
			}
			checkDevice(t, d, base, model)
			if tc.mem < 0 && d.spill == nil && d.ChangedCount() > 0 {
				t.Error("MemLimit < 0 but nothing spilled")
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("spill directory not empty after Close: %v", ents)
			}
		})
	}
}

func TestEqualWritesAreNoOps(t *testing.T) {
	base := bytes.Repeat([]byte{0xAB}, 10*1024)
	d := New(bytes.NewReader(base), int64(len(base)), Options{BlockSize: 1024})
	defer d.Close()
	if _, err := d.WriteAt(bytes.Repeat([]byte{0xAB}, 5000), 700); err != nil {
		t.Fatal(err)
	}
	if d.ChangedCount() != 0 {
		t.Fatalf("writing base bytes changed %v", d.ChangedBlocks())
	}
	if _, err := d.WriteAt([]byte{1, 2}, 1023); err != nil { // spans blocks 0 and 1
		t.Fatal(err)
	}
	if got := d.ChangedBlocks(); !slices.Equal(got, []int64{0, 1}) {
		t.Fatalf("changed %v, want [0 1]", got)
	}
	if _, err := d.WriteAt([]byte{0xAB}, 1023); err != nil { // revert block 0 only
		t.Fatal(err)
	}
	if got := d.ChangedBlocks(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after revert: changed %v, want [1]", got)
	}
	if _, err := d.WriteAt([]byte{0xAB}, 1024); err != nil {
		t.Fatal(err)
	}
	if d.ChangedCount() != 0 || d.memBytes != 0 {
		t.Fatalf("after full revert: changed %v, %d bytes held", d.ChangedBlocks(), d.memBytes)
	}
}

func TestSpillSlotsAreReused(t *testing.T) {
	size := int64(64 * 1024)
	base := make([]byte, size)
	tmp := t.TempDir()
	d := New(bytes.NewReader(base), size, Options{BlockSize: 4096, MemLimit: 4096, TempDir: tmp})
	for round := range 5 {
		for b := int64(0); b < 16; b++ {
			if _, err := d.WriteAt([]byte{byte(round + 1)}, b*4096+7); err != nil {
				t.Fatal(err)
			}
		}
		if d.ChangedCount() != 16 || d.memBytes != 4096 {
			t.Fatalf("round %d: %d changed, %d bytes in memory", round, d.ChangedCount(), d.memBytes)
		}
		for b := int64(0); b < 16; b++ {
			if _, err := d.WriteAt([]byte{0}, b*4096+7); err != nil {
				t.Fatal(err)
			}
		}
		if d.ChangedCount() != 0 {
			t.Fatalf("round %d: %v changed after revert", round, d.ChangedBlocks())
		}
	}
	if d.spillEnd != 15*4096 {
		t.Errorf("spill file grew to %d bytes, want 15 blocks reused", d.spillEnd)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("spill file visible in %s: %v", tmp, ents)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteBounds(t *testing.T) {
	base := make([]byte, 5000)
	d := New(bytes.NewReader(base), 5000, Options{BlockSize: 1024})
	for _, c := range []struct{ off, n int64 }{{4999, 2}, {5000, 1}, {-1, 1}, {6000, 0}} {
		if k, err := d.WriteAt(make([]byte, c.n), c.off); err == nil || k != 0 {
			t.Errorf("WriteAt(%d bytes, %d) = %d, %v; want a refusal", c.n, c.off, k, err)
		}
	}
	if k, err := d.WriteAt([]byte{9}, 4999); err != nil || k != 1 {
		t.Fatalf("last byte: %d, %v", k, err)
	}
	if k, err := d.WriteAt(nil, 5000); err != nil || k != 0 {
		t.Fatalf("empty write at the end: %d, %v", k, err)
	}
	if got := d.ChangedBlocks(); !slices.Equal(got, []int64{4}) {
		t.Fatalf("changed %v", got)
	}
	if _, err := d.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative read: no error")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteAt([]byte{1}, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if _, err := d.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSpillDirMissing(t *testing.T) {
	base := make([]byte, 8192)
	d := New(bytes.NewReader(base), 8192, Options{BlockSize: 4096, MemLimit: -1, TempDir: filepath.Join(t.TempDir(), "absent")})
	defer d.Close()
	if _, err := d.WriteAt([]byte{1}, 10); err == nil {
		t.Fatal("write with an unusable spill directory: no error")
	}
	if d.ChangedCount() != 0 {
		t.Errorf("failed write left %v changed", d.ChangedBlocks())
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestOpenWriteFileLeavesBaseAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	basePath := filepath.Join(dir, "base.ext4")
	base := randBytes(rng, 3<<20+123)
	if err := os.WriteFile(basePath, base, 0o444); err != nil { // read-only: Open must not need write access
		t.Fatal(err)
	}
	before := fileHash(t, basePath)
	d, err := Open(basePath, Options{BlockSize: 4096, MemLimit: 8 * 4096, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Size() != int64(len(base)) {
		t.Fatalf("size %d, want %d", d.Size(), len(base))
	}
	model := bytes.Clone(base)
	for range 200 {
		off := rng.Int64N(int64(len(base)))
		p := randBytes(rng, min(rng.Int64N(20000), int64(len(base))-off))
		if _, err := d.WriteAt(p, off); err != nil {
			t.Fatal(err)
		}
		copy(model[off:], p)
	}
	out := filepath.Join(dir, "new.ext4")
	if err := d.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, model) {
		t.Fatal("WriteFile output differs from the model")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != imageMode {
		t.Errorf("image mode %v", fi.Mode())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if fileHash(t, basePath) != before {
		t.Fatal("the base image changed")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %v, want only base.ext4 and new.ext4", ents)
	}
	if _, err := Open(filepath.Join(dir, "absent"), Options{}); err == nil {
		t.Error("Open of a missing file: no error")
	}
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("Open of a directory: no error")
	}
}

// failingBase is a base that fails to read past limit.
type failingBase struct {
	r     io.ReaderAt
	limit int64
}

var errDisk = errors.New("disk on fire")

func (f failingBase) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		return 0, errDisk
	}
	return f.r.ReadAt(p, off)
}

// failingWriter fails after accepting limit bytes.
type failingWriter struct{ n, limit int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errDisk
	}
	w.n += len(p)
	return len(p), nil
}

func TestWriteFileIsAtomic(t *testing.T) {
	size := int64(5 << 20)
	base := make([]byte, size)
	dir := t.TempDir()
	out := filepath.Join(dir, "new.ext4")
	if err := os.WriteFile(out, []byte("previous release"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := New(failingBase{bytes.NewReader(base), 3 << 20}, size, Options{})
	defer d.Close()
	if err := d.WriteFile(out); !errors.Is(err, errDisk) {
		t.Fatalf("WriteFile over a failing base: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %v after a failed WriteFile", ents)
	}
	if got, _ := os.ReadFile(out); string(got) != "previous release" {
		t.Fatalf("existing file clobbered: %q", got)
	}
	if err := d.WriteFile(filepath.Join(dir, "absent", "x")); err == nil {
		t.Error("WriteFile into a missing directory: no error")
	}

	good := New(bytes.NewReader(base), size, Options{})
	defer good.Close()
	w := &failingWriter{limit: 2 << 20}
	if n, err := good.WriteTo(w); !errors.Is(err, errDisk) || n != 2<<20 {
		t.Errorf("WriteTo a failing writer: %d, %v", n, err)
	}
}

// The blocks kept in memory are the most recently written ones: a block
// written again and again stays there while data written once goes to
// the spill file.
func TestMemoryKeepsRecentlyWrittenBlocks(t *testing.T) {
	base := make([]byte, 8*1024)
	d := New(bytes.NewReader(base), int64(len(base)), Options{BlockSize: 1024, MemLimit: 2 * 1024, TempDir: t.TempDir()})
	defer d.Close()
	write := func(b int64, v byte) {
		t.Helper()
		if _, err := d.WriteAt([]byte{v}, b*1024); err != nil {
			t.Fatal(err)
		}
	}
	inMemory := func() []int64 {
		var out []int64
		for b := int64(0); b < 8; b++ {
			if s, ok := d.slots[b]; ok && s.mem != nil {
				out = append(out, b)
			}
		}
		return out
	}
	write(0, 1)
	write(1, 1)
	write(2, 1) // 0 goes to the spill file
	write(1, 2) // 1 is now the most recent
	write(3, 1) // 2 goes
	if got := inMemory(); !reflect.DeepEqual(got, []int64{1, 3}) {
		t.Errorf("in memory %v, want [1 3]", got)
	}
	write(0, 3) // back from the spill file, 1 goes
	if got := inMemory(); !reflect.DeepEqual(got, []int64{0, 3}) {
		t.Errorf("in memory %v, want [0 3]", got)
	}
	want := make([]byte, len(base))
	want[0], want[1024], want[2048], want[3072] = 3, 2, 1, 1
	got := make([]byte, len(base))
	if _, err := d.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Errorf("device content differs (%v)", err)
	}
	write(2, 0) // back to the base's byte: no longer changed
	if d.IsChanged(2) || d.ChangedCount() != 3 {
		t.Errorf("changed %v", d.ChangedBlocks())
	}
}
