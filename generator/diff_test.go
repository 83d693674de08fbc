package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// writeImages writes an image of size bytes and a copy with the bytes at
// offsets inverted.
func writeImages(t *testing.T, size int64, offsets ...int64) (string, string) {
	t.Helper()
	dir := t.TempDir()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i/4096)
	}
	oldPath, newPath := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	if err := os.WriteFile(oldPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range offsets {
		data[o] ^= 0xFF
	}
	if err := os.WriteFile(newPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return oldPath, newPath
}

func TestDiffImages(t *testing.T) {
	const size = 3*MiB + 5000 // last unit short: 5000 bytes = 2 chunks
	cases := []struct {
		name          string
		g             Geometry
		offsets       []int64
		units, chunks int64
	}{
		{"identical", Geometry{MiB, 4 * KiB}, nil, 0, 0},
		{"one byte, 1MiB unit", Geometry{MiB, 4 * KiB}, []int64{10}, 1, 256},
		{"two bytes one unit", Geometry{MiB, 4 * KiB}, []int64{10, MiB - 1}, 1, 256},
		{"short last unit", Geometry{MiB, 4 * KiB}, []int64{3*MiB + 4999}, 1, 2},
		{"unit equals chunk", Geometry{4 * KiB, 4 * KiB}, []int64{0, 4095, 4096, 3 * MiB}, 3, 3},
		{"unit below chunk", Geometry{512, 4 * KiB}, []int64{0, 600, 4096, 3*MiB + 4999}, 4, 3},
		{"big chunk", Geometry{4 * KiB, 64 * KiB}, []int64{0, 8192, 65536}, 3, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oldPath, newPath := writeImages(t, size, c.offsets...)
			var seen int64
			d, err := DiffImages(context.Background(), oldPath, newPath, c.g, func(n int64) { seen += n })
			if err != nil {
				t.Fatal(err)
			}
			if d.UnitsChanged != c.units || d.ChunksWritten != c.chunks {
				t.Fatalf("units %d chunks %d, want %d %d", d.UnitsChanged, d.ChunksWritten, c.units, c.chunks)
			}
			if d.COWBytes != c.g.Model(0).COWBytes(c.chunks) || seen != size || d.ImageSize != size {
				t.Fatalf("cow %d progress %d size %d", d.COWBytes, seen, d.ImageSize)
			}
			for path, got := range map[string]string{oldPath: d.OldSHA256, newPath: d.NewSHA256} {
				data, _ := os.ReadFile(path)
				sum := sha256.Sum256(data)
				if hex.EncodeToString(sum[:]) != got {
					t.Fatalf("sha256 of %s: %s", path, got)
				}
			}
		})
	}
}

func TestDiffImagesErrors(t *testing.T) {
	oldPath, newPath := writeImages(t, MiB)
	if err := os.Truncate(newPath, MiB+512); err != nil {
		t.Fatal(err)
	}
	if _, err := DiffImages(context.Background(), oldPath, newPath, DefaultGeometry, nil); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("size mismatch: %v", err)
	}
	if _, err := DiffImages(context.Background(), oldPath, filepath.Join(t.TempDir(), "none"), DefaultGeometry, nil); err == nil {
		t.Fatal("missing file: no error")
	}
	if _, err := DiffImages(context.Background(), oldPath, oldPath, Geometry{MiB, 1000}, nil); err == nil {
		t.Fatal("bad geometry: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := DiffImages(ctx, oldPath, oldPath, DefaultGeometry, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
