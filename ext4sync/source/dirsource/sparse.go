package dirsource

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/holes"
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
		start, end, err := holes.Next(fd, off, size)
		if errors.Is(err, holes.ErrUnsupported) {
			return nil, nil // treat as dense
		}
		if err != nil {
			return nil, err
		}
		if start >= size {
			break
		}
		segs = append(segs, tree.Segment{Off: start, Len: end - start})
		off = end
	}
	if len(segs) == 1 && segs[0].Off == 0 && segs[0].Len == size {
		return nil, nil
	}
	return segs, nil
}
