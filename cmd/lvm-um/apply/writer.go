// Package apply writes a new image over a snapshot volume, unit by unit:
// it compares what each write unit must hold with what the volume holds
// and writes only the units that differ, whole, so the snapshot spends
// copy-on-write space exactly where the cost model says.
//
// The new image arrives in increasing offset order as data read from a
// stream (a full image, or the RAW pieces of a sparse delta), fill
// patterns, or nothing at all (a range the volume already holds). The
// Writer keeps one window of the volume in memory (a few MiB, a whole
// number of write units), reads it with one large read, lets the payload
// land in it, and on leaving it writes each run of differing units with
// one write. It never holds more than the window, whatever the image size.
package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// Volume is the snapshot the Writer reads and writes.
type Volume interface {
	io.ReaderAt
	io.WriterAt
}

// DefaultWindow is the window size the module uses: large enough that
// reads and writes are big, small enough for any device.
const DefaultWindow = 256 << 10

// MaxWriteUnit bounds the write unit a Writer accepts.
const MaxWriteUnit = 64 << 20

// ErrOrder is returned when the new image's pieces do not arrive in
// strictly increasing, non-overlapping order.
var ErrOrder = errors.New("apply: payload pieces out of order or overlapping")

// Writer applies a new image to a Volume. Use New, then ReadFrom, Put,
// Fill in increasing offset order, then Close.
type Writer struct {
	vol   Volume
	model blockmap.Model
	win   int64 // window size, a multiple of the write unit
	units *blockmap.UnitMap

	base   int64 // offset of the window; -1 before the first piece
	n      int64 // bytes of the window inside the image
	old    []byte
	cur    []byte
	loaded []bool // per unit of the window: old and cur hold it
	next   int64  // the first offset a new piece may start at
	err    error  // sticky
}

// New returns a Writer of an image of model.ImageSize bytes over vol, in
// write units of model.WriteUnit, whose cost is counted with
// model.Chunk-byte chunks. window is rounded up to whole write units; 0
// means DefaultWindow.
func New(vol Volume, model blockmap.Model, window int64) (*Writer, error) {
	if err := model.Validate(); err != nil {
		return nil, err
	}
	if model.WriteUnit > MaxWriteUnit {
		return nil, fmt.Errorf("apply: write unit %d: more than %d bytes", model.WriteUnit, MaxWriteUnit)
	}
	if window <= 0 {
		window = DefaultWindow
	}
	window = (window + model.WriteUnit - 1) / model.WriteUnit * model.WriteUnit
	units, err := blockmap.NewUnitMap(model)
	if err != nil {
		return nil, err
	}
	return &Writer{
		vol: vol, model: model, win: window, units: units, base: -1,
		old: make([]byte, window), cur: make([]byte, window),
		loaded: make([]bool, window/model.WriteUnit),
	}, nil
}

// ReadFrom sets the n bytes at off to the next n bytes of r. A stream
// that ends early is io.ErrUnexpectedEOF. The whole image on a fresh
// Writer takes a pipelined path (streamFull).
func (w *Writer) ReadFrom(off, n int64, r io.Reader) error {
	if w.err == nil && off == 0 && n == w.model.ImageSize && w.base < 0 && w.next == 0 && n > 0 {
		return w.streamFull(r)
	}
	return w.each(off, n, func(dst []byte, _ int64) error {
		_, err := io.ReadFull(r, dst)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	})
}

// Put sets the bytes at off to p.
func (w *Writer) Put(off int64, p []byte) error {
	return w.each(off, int64(len(p)), func(dst []byte, done int64) error {
		copy(dst, p[done:])
		return nil
	})
}

// Fill sets the n bytes at off to pattern repeated, pattern[0] at off.
func (w *Writer) Fill(off, n int64, pattern [4]byte) error {
	return w.each(off, n, func(dst []byte, done int64) error {
		for i := range dst {
			dst[i] = pattern[(done+int64(i))%4]
		}
		return nil
	})
}

// each calls fill for the pieces of [off, off+n) that fall in successive
// windows, with dst the window bytes to set and done the bytes of the
// range already set.
func (w *Writer) each(off, n int64, fill func(dst []byte, done int64) error) error {
	if w.err != nil {
		return w.err
	}
	if n < 0 || off < w.next || off > w.model.ImageSize || n > w.model.ImageSize-off {
		if n >= 0 && off >= w.next {
			return w.fail(fmt.Errorf("apply: payload piece %d+%d ends past the image's %d bytes", off, n, w.model.ImageSize))
		}
		return w.fail(fmt.Errorf("%w: piece at %d, expected at or after %d", ErrOrder, off, w.next))
	}
	for done := int64(0); done < n; {
		pos := off + done
		if pos < w.base || pos >= w.base+w.n || w.base < 0 {
			if err := w.move(pos); err != nil {
				return w.fail(err)
			}
		}
		end := min(off+n, w.base+w.n)
		if err := w.load(pos, end); err != nil {
			return w.fail(err)
		}
		if err := fill(w.cur[pos-w.base:end-w.base], done); err != nil {
			return w.fail(err)
		}
		done += end - pos
	}
	w.next = off + n
	return nil
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// move flushes the window and places it over the window that holds pos.
func (w *Writer) move(pos int64) error {
	if err := w.flush(); err != nil {
		return err
	}
	w.base = pos / w.win * w.win
	w.n = min(w.win, w.model.ImageSize-w.base)
	clear(w.loaded)
	return nil
}

// load reads the units of the window that [pos, end) touches and that
// are not loaded yet, with one read per run of such units. A unit the
// range covers whole is not copied into cur: the caller overwrites it.
func (w *Writer) load(pos, end int64) error {
	unit := w.model.WriteUnit
	first, last := (pos-w.base)/unit, (end-1-w.base)/unit
	for u := first; u <= last; {
		if w.loaded[u] {
			u++
			continue
		}
		v := u
		for v+1 <= last && !w.loaded[v+1] {
			v++
		}
		lo, hi := u*unit, min((v+1)*unit, w.n)
		if _, err := w.vol.ReadAt(w.old[lo:hi], w.base+lo); err != nil {
			return fmt.Errorf("apply: reading the volume at %d: %w", w.base+lo, err)
		}
		for k := u; k <= v; k++ {
			ulo, uhi := k*unit, min((k+1)*unit, w.n)
			if w.base+ulo < pos || w.base+uhi > end {
				copy(w.cur[ulo:uhi], w.old[ulo:uhi])
			}
			w.loaded[k] = true
		}
		u = v + 1
	}
	return nil
}

// flush writes every loaded unit of the window whose new bytes differ
// from the volume's, one write per run of consecutive differing units.
func (w *Writer) flush() error {
	if w.base < 0 {
		return nil
	}
	unit := w.model.WriteUnit
	first := w.base / unit
	runStart := int64(-1)
	writeRun := func(end int64) error {
		lo, hi := runStart*unit, min(end*unit, w.n)
		if _, err := w.vol.WriteAt(w.cur[lo:hi], w.base+lo); err != nil {
			return fmt.Errorf("apply: writing the volume at %d: %w", w.base+lo, err)
		}
		runStart = -1
		return nil
	}
	for k := int64(0); k < int64(len(w.loaded)) && k*unit < w.n; k++ {
		differs := false
		if w.loaded[k] {
			lo, hi := k*unit, min((k+1)*unit, w.n)
			differs = !bytes.Equal(w.old[lo:hi], w.cur[lo:hi])
		}
		if differs {
			if err := w.units.Mark(first + k); err != nil {
				return err
			}
			if runStart < 0 {
				runStart = k
			}
		} else if runStart >= 0 {
			if err := writeRun(k); err != nil {
				return err
			}
		}
	}
	if runStart >= 0 {
		return writeRun(int64(len(w.loaded)))
	}
	return nil
}

// Close writes what the window still holds and returns the cost of the
// units written, by the same model the generator and the pre-flight use.
func (w *Writer) Close() (blockmap.Result, error) {
	if w.err != nil {
		return blockmap.Result{}, w.err
	}
	if err := w.flush(); err != nil {
		return blockmap.Result{}, w.fail(err)
	}
	w.base = -1
	w.err = errors.New("apply: writer closed")
	return w.units.Result(), nil
}

// Written reports the units written so far (in ascending order).
func (w *Writer) Written() []int64 { return w.units.DirtyUnits() }
