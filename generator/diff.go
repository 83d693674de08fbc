package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// Diff is what changes when the device writes a new image over the old
// one: blockmap's cost of the write units that differ, which they are,
// and the two images' checksums.
type Diff struct {
	blockmap.Result
	Changed   []int64 // indexes of the changed write units, ascending
	OldSHA256 string  // hex sha256 of the old image
	NewSHA256 string  // hex sha256 of the new image
}

// ErrSizeMismatch is returned by DiffImages when the images differ in
// length: lvm-um writes an image over a volume of fixed size.
var ErrSizeMismatch = errors.New("images differ in size")

// DiffImages compares two images of equal size unit by unit with
// blockmap's streaming diff and hashes them on the way. progress, if
// non-nil, receives the bytes compared since its last call.
func DiffImages(ctx context.Context, oldPath, newPath string, g Geometry, progress func(int64)) (*Diff, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	p, err := openPair(oldPath, newPath)
	if err != nil {
		return nil, err
	}
	defer p.close()
	sums := newSums()
	res, changed, err := blockmap.DiffContext(ctx, p.old, p.new, p.size, g.Model(p.size), sums.options(progress))
	if err != nil {
		return nil, ctxOr(ctx, err)
	}
	return sums.diff(res, changed), nil
}

// imagePair is two open images of the same size.
type imagePair struct {
	old, new *os.File
	size     int64
}

// openPair opens two images and checks that their sizes agree.
func openPair(oldPath, newPath string) (*imagePair, error) {
	oldF, err := os.Open(oldPath)
	if err != nil {
		return nil, err
	}
	newF, err := os.Open(newPath)
	if err != nil {
		oldF.Close()
		return nil, err
	}
	p := &imagePair{old: oldF, new: newF}
	sizes := [2]int64{}
	for i, f := range []*os.File{oldF, newF} {
		fi, err := f.Stat()
		if err != nil {
			p.close()
			return nil, err
		}
		sizes[i] = fi.Size()
	}
	if sizes[0] != sizes[1] {
		p.close()
		return nil, fmt.Errorf("%w: %s is %d bytes, %s is %d bytes", ErrSizeMismatch, oldPath, sizes[0], newPath, sizes[1])
	}
	p.size = sizes[0]
	return p, nil
}

func (p *imagePair) close() {
	p.old.Close()
	p.new.Close()
}

// sums hashes both images as a diff streams them and, when chunks is
// set, the old image chunk by chunk for the base manifest.
type sums struct {
	old, new hash.Hash
	chunks   *blockmap.ChunkHasher
}

func newSums() *sums { return &sums{old: sha256.New(), new: sha256.New()} }

// options are the diff's observers: the hashes and, if non-nil, progress
// in bytes compared since its last call.
func (s *sums) options(progress func(int64)) blockmap.DiffOptions {
	o := blockmap.DiffOptions{Window: func(old, new []byte) {
		s.old.Write(old)
		s.new.Write(new)
		if s.chunks != nil {
			s.chunks.Write(old)
		}
	}}
	if progress != nil {
		var last int64
		o.Progress = func(done int64) {
			progress(done - last)
			last = done
		}
	}
	return o
}

// diff is the Diff of a finished comparison.
func (s *sums) diff(res blockmap.Result, changed []int64) *Diff {
	return &Diff{Result: res, Changed: changed,
		OldSHA256: hex.EncodeToString(s.old.Sum(nil)), NewSHA256: hex.EncodeToString(s.new.Sum(nil))}
}

// ctxOr returns ctx's error if it is done (a stopped diff says so
// itself), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}
