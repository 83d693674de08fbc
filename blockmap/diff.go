package blockmap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// diffBufSize bounds the memory a comparison uses per image, whatever W is.
const diffBufSize = 1 << 20

// Diff compares two images of size bytes unit by unit, streaming (at most
// diffBufSize bytes of each image in memory), and returns the cost of
// writing the units that differ and those units in ascending order. If
// m.ImageSize is zero it is taken from size; otherwise the two must agree.
func Diff(a, b io.ReaderAt, size int64, m Model) (Result, []int64, error) {
	return DiffContext(context.Background(), a, b, size, m, DiffOptions{})
}

// DiffOptions adds what the caller knows and observers to a diff.
type DiffOptions struct {
	// Differs, when not nil, lists the byte ranges of the new image that
	// may differ from the old one; every byte outside them is known to
	// equal the old image's (the sync's overlay knows them), so the new
	// image is read only inside them. The result is exact whatever their
	// granularity: units are still compared byte by byte.
	Differs []Range
	// Window, if set, is called with every byte of both images, in order
	// in windows of at most diffBufSize (old and new the same length), to
	// hash them on the way; outside Differs the new image's bytes are the
	// old one's. Setting it makes the diff read units it already knows
	// differ instead of skipping them.
	Window func(old, new []byte)
	// Progress, if set, is called after each window with the bytes of the
	// image done so far.
	Progress func(done int64)
}

// DiffContext is Diff with observers, stopping with ctx's error when ctx
// is cancelled.
func DiffContext(ctx context.Context, a, b io.ReaderAt, size int64, m Model, opts DiffOptions) (Result, []int64, error) {
	if size < 0 {
		return Result{}, nil, fmt.Errorf("blockmap: image size %d: must not be negative", size)
	}
	if m.ImageSize == 0 {
		m.ImageSize = size
	}
	if m.ImageSize != size {
		return Result{}, nil, fmt.Errorf("blockmap: image size %d differs from the model's %d", size, m.ImageSize)
	}
	d, err := newDiffer(a, b, m)
	if err != nil {
		return Result{}, nil, err
	}
	d.ctx, d.opts = ctx, opts
	if opts.Differs == nil {
		err = d.span(0, size, nil)
	} else {
		err = d.known(size)
	}
	if err != nil {
		return Result{}, nil, err
	}
	return d.result()
}

// known diffs the images when opts.Differs says where they may differ:
// with a Window every byte is streamed, else only the ranges are read.
func (d *differ) known(size int64) error {
	rs := Normalize(d.opts.Differs)
	for _, r := range rs {
		if err := d.m.checkRange(r.Off, r.Len); err != nil {
			return fmt.Errorf("blockmap: differing range: %w", err)
		}
	}
	if d.opts.Window != nil {
		return d.span(0, size, rs)
	}
	for _, r := range rs {
		if err := d.span(r.Off, r.End(), nil); err != nil {
			return err
		}
	}
	return nil
}

// DiffFiles is Diff of two image files, for `lvm-um-gen diff OLD NEW`. It
// fails if their sizes differ. If m.ImageSize is zero it is taken from the
// files.
func DiffFiles(oldPath, newPath string, m Model) (Result, []int64, error) {
	oldF, oldSize, err := openSized(oldPath)
	if err != nil {
		return Result{}, nil, err
	}
	defer oldF.Close()
	newF, newSize, err := openSized(newPath)
	if err != nil {
		return Result{}, nil, err
	}
	defer newF.Close()
	if oldSize != newSize {
		return Result{}, nil, fmt.Errorf("blockmap: image sizes differ: %s is %d bytes, %s is %d bytes",
			oldPath, oldSize, newPath, newSize)
	}
	return Diff(oldF, newF, oldSize, m)
}

func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("blockmap: open image: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("blockmap: stat image %s: %w", path, err)
	}
	return f, fi.Size(), nil
}

// differ compares two images and collects the units that differ.
type differ struct {
	m          Model
	a, b       io.ReaderAt
	bufA, bufB []byte
	dirty      bitset
	ctx        context.Context // nil: never cancelled
	opts       DiffOptions
}

func newDiffer(a, b io.ReaderAt, m Model) (*differ, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	n := min(int64(diffBufSize), max(m.ImageSize, 1))
	return &differ{m: m, a: a, b: b, bufA: make([]byte, n), bufB: make([]byte, n), dirty: newBitset(m.Units())}, nil
}

// span compares [start, end) and marks the units in which it differs. Units
// already marked are skipped, not re-read (unless a Window watches). With
// differs (sorted, disjoint ranges) not nil, the new image is read only
// inside them and taken to be the old one elsewhere.
func (d *differ) span(start, end int64, differs []Range) error {
	w := d.m.WriteUnit
	for pos := start; pos < end; {
		if u := pos / w; d.opts.Window == nil && d.dirty.test(u) {
			pos = min(end, (u+1)*w)
			d.progress(pos)
			continue
		}
		if d.ctx != nil {
			if err := d.ctx.Err(); err != nil {
				return fmt.Errorf("blockmap: diff stopped at byte %d: %w", pos, err)
			}
		}
		n := min(int64(len(d.bufA)), end-pos)
		if err := readFull(d.a, d.bufA[:n], pos, "old"); err != nil {
			return err
		}
		newBuf, err := d.readNew(pos, n, differs)
		if err != nil {
			return err
		}
		for p := pos; newBuf != nil && p < pos+n; {
			u := p / w
			segEnd := min((u+1)*w, pos+n)
			if !d.dirty.test(u) && !bytes.Equal(d.bufA[p-pos:segEnd-pos], newBuf[p-pos:segEnd-pos]) {
				d.dirty.set(u)
			}
			p = segEnd
		}
		if d.opts.Window != nil {
			if newBuf == nil {
				newBuf = d.bufA[:n]
			}
			d.opts.Window(d.bufA[:n], newBuf)
		}
		pos += n
		d.progress(pos)
	}
	return nil
}

// readNew returns the new image's n bytes at pos (read into bufB), or nil
// when differs is not nil and no range of it meets them: they are the old
// image's, already in bufA.
func (d *differ) readNew(pos, n int64, differs []Range) ([]byte, error) {
	if differs == nil {
		return d.bufB[:n], readFull(d.b, d.bufB[:n], pos, "new")
	}
	end := pos + n
	i := sort.Search(len(differs), func(i int) bool { return differs[i].End() > pos })
	if i == len(differs) || differs[i].Off >= end {
		return nil, nil
	}
	copy(d.bufB[:n], d.bufA[:n])
	for ; i < len(differs) && differs[i].Off < end; i++ {
		lo, hi := max(differs[i].Off, pos), min(differs[i].End(), end)
		if err := readFull(d.b, d.bufB[lo-pos:hi-pos], lo, "new"); err != nil {
			return nil, err
		}
	}
	return d.bufB[:n], nil
}

func (d *differ) progress(done int64) {
	if d.opts.Progress != nil {
		d.opts.Progress(done)
	}
}

func (d *differ) result() (Result, []int64, error) {
	var units []int64
	for u := d.dirty.next(0, true); u >= 0; u = d.dirty.next(u+1, true) {
		units = append(units, u)
	}
	return d.m.estimateSorted(units), units, nil
}

// readFull reads exactly len(p) bytes at off; an image shorter than that is
// an error.
func readFull(r io.ReaderAt, p []byte, off int64, which string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("blockmap: read %s image at byte %d (%d bytes): %w", which, off, len(p), err)
}
