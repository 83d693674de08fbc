package bound

import (
	"context"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
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
	Facts *Facts
}

// Measure compares the ext4 images base and img of size bytes under m (its
// ImageSize zero or size) in one streaming pass (o's observers see it too), then attributes the
// changed blocks, charging them to paths as touched says (the sync's
// ext4sync.PathBlocks), and gathers the bound's facts.
func Measure(ctx context.Context, base, img io.ReaderAt, size int64, m blockmap.Model, touched []attrib.Touch, o blockmap.DiffOptions) (*Measurement, error) {
	if m.ImageSize == 0 {
		m.ImageSize = size
	}
	l, err := disk.ReadLayout(base)
	if err != nil {
		return nil, fmt.Errorf("bound: base: %w", err)
	}
	scan, err := NewScan(int64(l.BlockSize))
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
	res, units, err := blockmap.DiffContext(ctx, base, img, size, m, o)
	if err != nil {
		return nil, err
	}
	scanned, err := scan.Finish()
	if err != nil {
		return nil, err
	}
	var fileData []uint64
	opts := attrib.Options{Observe: func(blk uint64, c attrib.Category) {
		if c == attrib.FileData {
			fileData = append(fileData, blk)
		}
	}}
	if len(touched) > 0 {
		if opts.Kinds, err = attrib.ImageKinds(img); err != nil {
			return nil, fmt.Errorf("bound: new image: %w", err)
		}
	}
	rep, err := attrib.Classify(l, m, scanned.Changed(), touched, opts)
	if err != nil {
		return nil, err
	}
	facts, err := Gather(base, img, l, scanned, fileData)
	if err != nil {
		return nil, err
	}
	return &Measurement{Result: res, Units: units, Attribution: rep, Facts: facts}, nil
}
