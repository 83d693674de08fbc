// Package measure prices what a sync wrote: from the base image, the image
// a sync made from it and what the sync knows it wrote (ext4sync/written:
// the byte ranges that differ and the blocks each path's change wrote), it
// finds the write units that differ and their cost (blockmap), says why
// each changed block changed and who changed it (blockmap/attrib), and
// gathers what the lower bound needs (blockmap/bound), in one pass that
// reads the base once and the new image only where it differs.
package measure

import (
	"context"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// Measurement is what one pass over a base and the image a sync wrote
// from it tells: the cost, why it is what it is, and what the bound needs.
type Measurement struct {
	// Result is the exact cost of writing img over base (blockmap.Diff)
	// and Units the write units that differ, ascending.
	Result blockmap.Result
	Units  []int64
	// Attribution says why each changed block changed and ranks who
	// changed them (attrib.Classify of the changed blocks).
	Attribution *attrib.Report
	// Facts is what Facts.Bound needs, for any model.
	Facts *bound.Facts
}

// Wrote is what the sync says it wrote (ext4sync.Result's Differs and
// Touched).
type Wrote struct {
	// Differs lists the byte ranges of the new image that may differ from
	// the base; everything else is the base's, and is not read from the
	// new image. Nil means unknown: the whole images are compared.
	Differs []written.Range
	// Touched charges changed blocks to paths.
	Touched []written.Path
}

// Measure compares the ext4 images base and img of size bytes under m (its
// ImageSize zero or size) in one streaming pass (o's observers see every
// byte of both; o.Differs is set from w), then attributes the changed
// blocks, charging them to paths as w.Touched says, and gathers the
// bound's facts.
func Measure(ctx context.Context, base, img io.ReaderAt, size int64, m blockmap.Model, w Wrote, o blockmap.DiffOptions) (*Measurement, error) {
	if m.ImageSize == 0 {
		m.ImageSize = size
	}
	l, err := disk.ReadLayout(base)
	if err != nil {
		return nil, fmt.Errorf("measure: base: %w", err)
	}
	scan, err := bound.NewScan(int64(l.BlockSize))
	if err != nil {
		return nil, err
	}
	if outer := o.Window; outer != nil {
		o.Window = func(old, new []byte) {
			outer(old, new)
			scan.Window(old, new)
		}
	} else {
		o.Window = scan.Window
	}
	o.Differs = nil
	if w.Differs != nil {
		o.Differs = make([]blockmap.Range, len(w.Differs))
		for i, r := range w.Differs {
			o.Differs[i] = blockmap.Range{Off: r.Off, Len: r.Len}
		}
	}
	res, units, err := blockmap.DiffContext(ctx, base, img, size, m, o)
	if err != nil {
		return nil, err
	}
	scanned, err := scan.Finish()
	if err != nil {
		return nil, err
	}
	return finish(base, img, l, m, res, units, scanned, w.Touched)
}

// MeasureKnownBase is Measure when the base's blocks are hashed already
// (h, a bound.BaseScan of the base, which can run on another core while
// the sync writes img) and w.Differs is known: only the ranges that may
// differ are read, of both images, and the result is Measure's.
func MeasureKnownBase(ctx context.Context, base, img io.ReaderAt, m blockmap.Model, w Wrote, h *bound.BaseHashes) (*Measurement, error) {
	if w.Differs == nil {
		return nil, fmt.Errorf("measure: the ranges that differ are not known")
	}
	size := h.Size()
	if m.ImageSize == 0 {
		m.ImageSize = size
	}
	l, err := disk.ReadLayout(base)
	if err != nil {
		return nil, fmt.Errorf("measure: base: %w", err)
	}
	if int64(l.BlockSize) != h.BlockSize() {
		return nil, fmt.Errorf("measure: base hashed in %d-byte blocks, its layout has %d", h.BlockSize(), l.BlockSize)
	}
	differs := make([]blockmap.Range, len(w.Differs))
	for i, r := range w.Differs {
		differs[i] = blockmap.Range{Off: r.Off, Len: r.Len}
	}
	differs = blockmap.Normalize(differs)
	res, units, err := blockmap.DiffContext(ctx, base, img, size, m, blockmap.DiffOptions{Differs: differs})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scanned, err := bound.ExamineChanged(base, img, h, differs)
	if err != nil {
		return nil, err
	}
	return finish(base, img, l, m, res, units, scanned, w.Touched)
}

// finish attributes the changed blocks and gathers the bound's facts.
func finish(base, img io.ReaderAt, l *disk.Layout, m blockmap.Model, res blockmap.Result, units []int64, scanned *bound.Scanned, touched []written.Path) (*Measurement, error) {
	var fileData []uint64
	opts := attrib.Options{Observe: func(blk uint64, c attrib.Category) {
		if c == attrib.FileData {
			fileData = append(fileData, blk)
		}
	}}
	rep, err := attrib.Classify(l, m, scanned.Changed(), touched, opts)
	if err != nil {
		return nil, err
	}
	facts, err := bound.Gather(base, img, l, scanned, fileData)
	if err != nil {
		return nil, err
	}
	return &Measurement{Result: res, Units: units, Attribution: rep, Facts: facts}, nil
}
