package file

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Fill writes a regular file's content after Layout placed it: exactly
// size bytes read from r, whose block digests must be the blocks Layout
// was given (a source whose content changed in between is refused, as
// nothing else would notice). Each non-zero block is written where the
// extent tree maps it, unless the device already holds its bytes there.
// The content and the blocks already there are read in windows.
func (i *Inode) Fill(r io.Reader, blocks []uint64, size int64) (ContentStats, error) {
	var st ContentStats
	if i.kind != tree.Regular || i.ext == nil {
		return st, kindf(i.ino, "fill content", i.kind)
	}
	bs := int64(i.fs.BlockSize())
	if nblocks := (size + bs - 1) / bs; int64(len(blocks)) != nblocks || uint64(size) != i.raw.Size() {
		return st, fmtInvalid("inode %d: fill %d bytes (%d block digests) into a layout of %d bytes", i.ino, size, len(blocks), i.raw.Size())
	}
	win := getWindow()
	defer putWindow(win)
	window := (*win)[:min(int64(contentWindow), (size+bs-1)/bs*bs)]
	var old *oldRuns
	defer func() { old.release() }()
	for pos := int64(0); pos < size; {
		m := min(int64(len(window)), size-pos)
		if _, err := io.ReadFull(r, window[:m]); err != nil {
			return st, wrapf(i.ino, fmt.Sprintf("read new content at byte %d of %d", pos, size), err)
		}
		nb := (m + bs - 1) / bs
		clear(window[m : nb*bs])
		for k := int64(0); k < nb; k++ {
			lb := pos/bs + k
			buf, want := window[k*bs:(k+1)*bs], blocks[lb]
			if tree.BlockDigest(buf) != want {
				return st, fmtInvalid("inode %d: new content changed between reads (block %d)", i.ino, lb)
			}
			if want == 0 {
				continue // a hole
			}
			phys, _, ok := i.ext.Lookup(uint32(lb))
			if !ok {
				return st, wrapf(i.ino, "fill content", fmt.Errorf("logical block %d has no block laid out: %w", lb, fs.ErrInvalid))
			}
			if old == nil {
				old = newOldRuns(i)
			}
			cur, err := old.block(uint32(lb), phys)
			if err != nil {
				return st, wrapf(i.ino, fmt.Sprintf("read data block %d", phys), err)
			}
			if bytes.Equal(cur, buf) {
				continue
			}
			if err := i.fs.WriteBlock(phys, buf); err != nil {
				return st, wrapf(i.ino, fmt.Sprintf("write data block %d", phys), err)
			}
			st.BlocksWritten++
		}
		pos += m
	}
	if st.BlocksWritten > 0 {
		st.Changed = true
		i.dirty = true
	}
	return st, nil
}
