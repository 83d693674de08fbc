package generator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// Diff is what changes when the device writes a new image over the old
// one: the write units that differ, the snapshot chunks those writes
// touch and the COW space that costs.
type Diff struct {
	Geometry
	ImageBytes    int64  // size of both images
	UnitsChanged  int64  // write units whose bytes differ
	ChunksChanged int64  // N: distinct chunks that receive a write
	COWBytes      int64  // predicted exception-store use, COWBytes(N, C)
	OldSHA256     string // hex sha256 of the old image
	NewSHA256     string // hex sha256 of the new image
}

// ErrSizeMismatch is returned by DiffImages when the images differ in
// length: lvm-um writes an image over a volume of fixed size.
var ErrSizeMismatch = errors.New("images differ in size")

// DiffImages compares two images of equal size unit by unit, streaming
// both (memory use is one window of max(W, C) per image), and hashes
// them on the way. progress, if non-nil, receives the bytes compared.
//
// TODO(integrator): switch to blockmap's Diff when it lands, keeping the
// hashes here.
func DiffImages(ctx context.Context, oldPath, newPath string, g Geometry, progress func(int64)) (*Diff, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	oldF, err := os.Open(oldPath)
	if err != nil {
		return nil, err
	}
	defer oldF.Close()
	newF, err := os.Open(newPath)
	if err != nil {
		return nil, err
	}
	defer newF.Close()
	oldInfo, err := oldF.Stat()
	if err != nil {
		return nil, err
	}
	newInfo, err := newF.Stat()
	if err != nil {
		return nil, err
	}
	if oldInfo.Size() != newInfo.Size() {
		return nil, fmt.Errorf("%w: %s is %d bytes, %s is %d bytes", ErrSizeMismatch, oldPath, oldInfo.Size(), newPath, newInfo.Size())
	}
	d := &Diff{Geometry: g, ImageBytes: oldInfo.Size()}
	oldSum, newSum := sha256.New(), sha256.New()
	if err := diffStreams(ctx, oldF, newF, oldSum, newSum, d, progress); err != nil {
		return nil, err
	}
	d.COWBytes = COWBytes(d.ChunksChanged, g.ChunkSize)
	d.OldSHA256 = hex.EncodeToString(oldSum.Sum(nil))
	d.NewSHA256 = hex.EncodeToString(newSum.Sum(nil))
	return d, nil
}

// diffStreams walks both images in windows of max(W, C) bytes. Both sizes
// are powers of two, so a window holds whole units and whole chunks (but
// the last, which may be short) and a chunk is written exactly when a unit
// overlapping it differs.
func diffStreams(ctx context.Context, oldR, newR io.Reader, oldSum, newSum hash.Hash, d *Diff, progress func(int64)) error {
	w, c := d.WriteUnit, d.ChunkSize
	window := max(w, c)
	oldBuf := make([]byte, window)
	newBuf := make([]byte, window)
	unitsPerWindow := window / w
	dirty := make([]bool, unitsPerWindow)
	for off := int64(0); off < d.ImageBytes; off += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(window, d.ImageBytes-off)
		if _, err := io.ReadFull(oldR, oldBuf[:n]); err != nil {
			return fmt.Errorf("read old image at byte %d: %w", off, err)
		}
		if _, err := io.ReadFull(newR, newBuf[:n]); err != nil {
			return fmt.Errorf("read new image at byte %d: %w", off, err)
		}
		oldSum.Write(oldBuf[:n])
		newSum.Write(newBuf[:n])
		for u := int64(0); u < unitsPerWindow; u++ {
			lo, hi := u*w, min((u+1)*w, n)
			dirty[u] = lo < hi && !bytes.Equal(oldBuf[lo:hi], newBuf[lo:hi])
			if dirty[u] {
				d.UnitsChanged++
			}
		}
		for lo := int64(0); lo < n; lo += c {
			hi := min(lo+c, n)
			for u := lo / w; u <= (hi-1)/w; u++ {
				if dirty[u] {
					d.ChunksChanged++
					break
				}
			}
		}
		if progress != nil {
			progress(n)
		}
	}
	return nil
}
