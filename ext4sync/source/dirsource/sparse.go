package dirsource

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// segments returns the data ranges of the regular file at full (lstat
// as st), as the filesystem reports them with SEEK_DATA/SEEK_HOLE. It
// returns nil for a fully dense file and for filesystems that do not
// report holes, and an empty non-nil slice for a file that is all hole.
// A dense file is only proved readable (readable); a sparse one is
// opened, which proves it.
//
// A file whose allocated blocks cover its size (st_blocks) is taken as
// dense without asking: one with a hole has fewer, unless blocks beyond
// its data count too (an external xattr block, extent tree blocks,
// preallocation). Such a file is then read in full, and its hole reads
// as zeros, which the sync treats exactly as a hole (zero content has
// the zero digest, tree.Digests), so only the reading costs more.
func (r *reader) segments(full string, st *unix.Stat_t) ([]tree.Segment, error) {
	size := st.Size
	if size <= 0 || st.Blocks*512 >= size {
		return nil, r.readable(full)
	}
	f, err := r.open(full)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	fd := int(f.Fd())
	segs := []tree.Segment{}
	// Every iteration consumes at least one byte of the file, so size
	// bounds the loop; the extra guard protects against a lying filesystem.
	for off, steps := int64(0), int64(0); off < size && steps <= size; steps++ {
		start, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only hole from off to the end
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, nil // holes are not reported: treat as dense
		}
		if err != nil {
			return nil, fmt.Errorf("seek data at %d: %w", off, err)
		}
		if start >= size {
			break
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("seek hole at %d: %w", start, err)
		}
		if end > size {
			end = size
		}
		if end <= start {
			return nil, fmt.Errorf("filesystem reported an empty data range at %d", start)
		}
		segs = append(segs, tree.Segment{Off: start, Len: end - start})
		off = end
	}
	if len(segs) == 1 && segs[0].Off == 0 && segs[0].Len == size {
		return nil, nil
	}
	return segs, nil
}
