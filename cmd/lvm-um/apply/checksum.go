package apply

import (
	"crypto/sha256"
	"fmt"
	"io"
)

// Checksum returns the sha256 of the first size bytes of r, read in
// DefaultWindow-sized reads: the snapshot's read-back at the end of the
// download, compared with the artifact's rootfs-image.checksum.
func Checksum(r io.ReaderAt, size int64) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, min(DefaultWindow, max(size, 1)))
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		if _, err := r.ReadAt(buf[:n], off); err != nil {
			return [32]byte{}, fmt.Errorf("reading back at %d: %w", off, err)
		}
		h.Write(buf[:n])
		off += n
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}
