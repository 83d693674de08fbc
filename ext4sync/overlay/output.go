package overlay

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// copyBufSize bounds the memory WriteTo uses.
const copyBufSize = 1 << 20

// imageMode is the permission of files written by WriteFile.
const imageMode = 0o644

// WriteTo streams the whole device (base overlaid with the writes) to w,
// holding at most copyBufSize bytes in memory.
func (d *Device) WriteTo(w io.Writer) (int64, error) {
	if d.closed {
		return 0, ErrClosed
	}
	buf := make([]byte, min(copyBufSize, max(d.size, 1)))
	var total int64
	for total < d.size {
		n := min(int64(len(buf)), d.size-total)
		if _, err := d.ReadAt(buf[:n], total); err != nil {
			return total, err
		}
		k, err := w.Write(buf[:n])
		total += int64(k)
		if err != nil {
			return total, fmt.Errorf("overlay: write image at byte %d: %w", total, err)
		}
		if int64(k) != n {
			return total, fmt.Errorf("overlay: write image at byte %d: %w", total, io.ErrShortWrite)
		}
	}
	return total, nil
}

// WriteFile writes the device as a new image at path, atomically: it
// writes a temporary file in the same directory, syncs it and renames it
// over path. On error nothing is left behind and an existing file at path
// is untouched. The file gets mode 0644.
func (d *Device) WriteFile(path string) (err error) {
	if d.closed {
		return ErrClosed
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("overlay: create image: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = d.WriteTo(f); err != nil {
		return err
	}
	if err = f.Chmod(imageMode); err != nil {
		return fmt.Errorf("overlay: chmod image %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("overlay: sync image %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("overlay: close image %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("overlay: rename image into place: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: the image is
// complete and in place either way, so a failure here is not reported.
func syncDir(dir string) {
	if df, err := os.Open(dir); err == nil {
		df.Sync()
		df.Close()
	}
}
