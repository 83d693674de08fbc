package apply

import (
	"bytes"
	"fmt"
	"io"
)

// prefetch is how many windows of the volume are read ahead of the
// payload.
const prefetch = 2

// streamFull is ReadFrom for a whole image on a fresh Writer: while the
// payload's window is read from r, a goroutine reads the volume's next
// windows, so on a device the flash read hides behind the download (and
// here the two copies run on two cores). Every unit is compared as soon as
// its window is complete, and each run of differing units is written with
// one write, behind the read-ahead.
func (w *Writer) streamFull(r io.Reader) error {
	size, unit := w.model.ImageSize, w.model.WriteUnit
	type window struct {
		off int64
		old []byte
		err error
	}
	ahead := make(chan window, prefetch)
	free := make(chan []byte, prefetch+1)
	for range prefetch + 1 {
		free <- make([]byte, w.win)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(ahead)
		for off := int64(0); off < size; off += w.win {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			n := min(w.win, size-off)
			_, err := w.vol.ReadAt(buf[:n], off)
			if err != nil {
				err = fmt.Errorf("apply: reading the volume at %d: %w", off, err)
			}
			select {
			case ahead <- window{off, buf[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	cur := w.cur
	for win := range ahead {
		if win.err != nil {
			return w.fail(win.err)
		}
		n := int64(len(win.old))
		if _, err := io.ReadFull(r, cur[:n]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return w.fail(err)
		}
		runStart := int64(-1)
		writeRun := func(end int64) error {
			if _, err := w.vol.WriteAt(cur[runStart:end], win.off+runStart); err != nil {
				return w.fail(fmt.Errorf("apply: writing the volume at %d: %w", win.off+runStart, err))
			}
			runStart = -1
			return nil
		}
		for lo := int64(0); lo < n; lo += unit {
			hi := min(lo+unit, n)
			if !bytes.Equal(win.old[lo:hi], cur[lo:hi]) {
				if err := w.units.Mark((win.off + lo) / unit); err != nil {
					return w.fail(err)
				}
				if runStart < 0 {
					runStart = lo
				}
			} else if runStart >= 0 {
				if err := writeRun(lo); err != nil {
					return err
				}
			}
		}
		if runStart >= 0 {
			if err := writeRun(n); err != nil {
				return err
			}
		}
		free <- win.old
	}
	w.next = size
	return nil
}
