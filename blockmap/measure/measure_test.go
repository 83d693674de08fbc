package measure_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/measure"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	f *os.File
	n int64
}

func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.f.ReadAt(p, off)
	r.n += int64(n)
	return n, err
}

// TestMeasureFromWhatTheSyncWrote syncs a generated security update and
// measures it twice: from the ranges the sync says differ, and comparing
// the whole images. Both give the same cost, attribution, bound facts and
// image checksum, and the first reads from the new image only the ranges.
func TestMeasureFromWhatTheSyncWrote(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs")
	base, next, err := releasegen.Pair(releasegen.Config{Seed: 6, Scale: 0.02}, "patch")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := base.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := next.Write(b); err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int{1024, 4096} {
		img := ext4test.BuildImage(t, a, ext4test.ImageOptions{BlockSize: bs, Size: 24 << 20})
		src, err := dirsource.Read(b, dirsource.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out.ext4")
		res, err := ext4sync.SyncImage(t.Context(), img, src, out, ext4sync.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Differs) == 0 {
			t.Fatalf("%d: the sync reports no differing ranges", bs)
		}
		var differ int64
		for _, r := range res.Differs {
			differ += r.Len
		}
		run := func(w measure.Wrote) (*measure.Measurement, [32]byte, int64) {
			bf, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer bf.Close()
			of, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer of.Close()
			fi, err := bf.Stat()
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			o := blockmap.DiffOptions{Window: func(_, new []byte) { h.Write(new) }}
			newImg := &countingReader{f: of}
			r, err := measure.Measure(context.Background(), bf, newImg, fi.Size(), blockmap.Model{WriteUnit: 4 << 10, Chunk: 4 << 10}, w, o)
			if err != nil {
				t.Fatal(err)
			}
			var sum [32]byte
			h.Sum(sum[:0])
			return r, sum, newImg.n
		}
		known, knownSum, knownRead := run(measure.Wrote{Differs: res.Differs, Touched: res.Touched})
		full, fullSum, fullRead := run(measure.Wrote{Touched: res.Touched})
		if !reflect.DeepEqual(known, full) {
			t.Errorf("%d: measured from the sync's ranges %+v, from the whole images %+v", bs, known, full)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if knownSum != sha256.Sum256(want) || fullSum != knownSum {
			t.Errorf("%d: the window did not see the new image", bs)
		}
		// Inode-table blocks of changed inodes are read once more for the
		// bound's facts; they lie in the differing ranges too.
		if knownRead > 2*differ || fullRead < int64(len(want)) {
			t.Errorf("%d: read %d bytes of the new image from %d differing, %d comparing all (%d)", bs, knownRead, differ, fullRead, len(want))
		}
		if known.Result.UnitsChanged == 0 || len(known.Attribution.Contributors) == 0 {
			t.Errorf("%d: nothing measured: %+v", bs, known.Result)
		}
		// With the base hashed on its own beforehand (as the generator
		// does beside the sync), only the differing ranges are read, of
		// both images, and the measurement is the same.
		base, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		scan, err := bound.NewBaseScan(int64(bs))
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(base); off += 300 << 10 {
			scan.Window(base[off:min(off+300<<10, len(base))])
		}
		hashes, err := scan.Finish()
		if err != nil {
			t.Fatal(err)
		}
		bf, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		of, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		oldImg, newImg := &countingReader{f: bf}, &countingReader{f: of}
		m := blockmap.Model{WriteUnit: 4 << 10, Chunk: 4 << 10}
		kb, err := measure.MeasureKnownBase(context.Background(), oldImg, newImg, m, measure.Wrote{Differs: res.Differs, Touched: res.Touched}, hashes)
		bf.Close()
		of.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(kb, known) {
			t.Errorf("%d: measured with the base hashed beforehand %+v, in one pass %+v", bs, kb, known)
		}
		if lay := int64(64 << 10); oldImg.n > 3*differ+lay || newImg.n > 3*differ {
			t.Errorf("%d: read %d bytes of the base and %d of the new image for %d differing", bs, oldImg.n, newImg.n, differ)
		}
		if _, err := measure.MeasureKnownBase(context.Background(), oldImg, newImg, m, measure.Wrote{Touched: res.Touched}, hashes); err == nil {
			t.Errorf("%d: measured with no differing ranges", bs)
		}
	}
}
