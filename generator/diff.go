package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// Diff is what changes when the device writes a new image over the old
// one: the write units that differ, the snapshot chunks those writes
// touch and the COW space that costs.
type Diff struct {
	Geometry
	ImageBytes    int64   // size of both images
	UnitsChanged  int64   // write units whose bytes differ
	ChunksChanged int64   // N: distinct chunks that receive a write
	COWBytes      int64   // predicted exception-store use, blockmap.Model.COWBytes(N)
	OldSHA256     string  // hex sha256 of the old image
	NewSHA256     string  // hex sha256 of the new image
	Changed       []int64 // indexes of the changed write units, ascending
}

// ErrSizeMismatch is returned by DiffImages when the images differ in
// length: lvm-um writes an image over a volume of fixed size.
var ErrSizeMismatch = errors.New("images differ in size")

// DiffImages compares two images of equal size unit by unit with
// blockmap's streaming Diff and hashes them on the way. progress, if
// non-nil, receives the bytes compared since its last call.
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
	oldSum, newSum := sha256.New(), sha256.New()
	opts := blockmap.DiffOptions{Window: func(o, n []byte) {
		oldSum.Write(o)
		newSum.Write(n)
	}}
	if progress != nil {
		var last int64
		opts.Progress = func(done int64) {
			progress(done - last)
			last = done
		}
	}
	size := oldInfo.Size()
	m := g.Model(size)
	res, changed, err := blockmap.DiffContext(ctx, oldF, newF, size, m, opts)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	d := &Diff{
		Geometry:      g,
		ImageBytes:    size,
		UnitsChanged:  res.UnitsChanged,
		ChunksChanged: res.ChunksWritten,
		COWBytes:      res.COWBytes,
		OldSHA256:     hex.EncodeToString(oldSum.Sum(nil)),
		NewSHA256:     hex.EncodeToString(newSum.Sum(nil)),
		Changed:       changed,
	}
	return d, nil
}
