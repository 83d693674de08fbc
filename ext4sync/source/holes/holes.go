// Package holes finds the data ranges of a sparse file, as its filesystem
// reports them with lseek's SEEK_DATA and SEEK_HOLE. The rootfs walk uses
// it for the new tree's files, the generator for the base image.
package holes

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrUnsupported is returned when the filesystem does not report holes;
// the file is then to be read as if dense.
var ErrUnsupported = errors.New("filesystem does not report holes")

// Next returns the first data range [start, end) of the open file fd at
// or after off, cut at size; [size, size) when only hole is left up to
// size.
func Next(fd int, off, size int64) (start, end int64, err error) {
	start, err = unix.Seek(fd, off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return size, size, nil // only hole from off to the end
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		return 0, 0, ErrUnsupported
	}
	if err != nil {
		return 0, 0, fmt.Errorf("seek data at %d: %w", off, err)
	}
	if start < off {
		return 0, 0, fmt.Errorf("filesystem reported data at %d before %d", start, off)
	}
	if start >= size {
		return size, size, nil
	}
	end, err = unix.Seek(fd, start, unix.SEEK_HOLE)
	if err != nil {
		return 0, 0, fmt.Errorf("seek hole at %d: %w", start, err)
	}
	if end <= start {
		return 0, 0, fmt.Errorf("filesystem reported an empty data range at %d", start)
	}
	return start, min(end, size), nil
}
