package file

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Fill writes a regular file's content after Place mapped it: n.Size
// bytes read from r (tree.ReadSpans: the holes n.Data shows are passed
// over, not read, when r can skip), whose block digests must be the
// blocks Place was given (a source whose content changed in between is
// refused, as nothing else would notice). Each non-zero block is written
// where the extent tree maps it, unless the device already holds its
// bytes there. The content and the blocks already there are read in
// windows.
func (i *Inode) Fill(n *tree.Node, r io.Reader, blocks tree.Digests) (ContentStats, error) {
	var st ContentStats
	if i.kind != tree.Regular || i.ext == nil {
		return st, kindf(i.ino, "fill content", i.kind)
	}
	size := n.Size
	bs := int64(i.fs.BlockSize())
	if nblocks := (size + bs - 1) / bs; blocks.N != nblocks || blocks.Unit != int(bs) || uint64(size) != i.raw.Size() {
		return st, fmtInvalid("inode %d: fill %d bytes (%d block digests) into a placement of %d bytes", i.ino, size, blocks.N, i.raw.Size())
	}
	win := getWindow()
	defer putWindow(win)
	f := &filler{i: i, blocks: blocks, st: &st, bs: bs}
	defer func() { f.old.release() }()
	var own error // f's, already in context
	err := tree.ReadSpans(n, r, bs, *win, func(pos int64, b []byte) error {
		own = f.piece(pos, b, (*win)[:cap(*win)])
		return own
	})
	switch {
	case own != nil:
		return st, own
	case err != nil:
		return st, wrapf(i.ino, "read new content", err)
	}
	if f.seen != blocks.Len() {
		return st, fmtInvalid("inode %d: new content changed between reads (%d blocks of data, %d expected)", i.ino, f.seen, blocks.Len())
	}
	if st.BlocksWritten > 0 {
		st.Changed = true
		i.dirty = true
	}
	return st, nil
}

// filler is the state of one Fill.
type filler struct {
	i      *Inode
	blocks tree.Digests
	st     *ContentStats
	bs     int64
	old    *oldRuns
	seen   int64 // blocks with data met
}

// piece writes the blocks of the m new bytes b at content byte pos (a
// multiple of the block size; b is window[:m], zero-padded here to a
// whole block).
func (f *filler) piece(pos int64, b, window []byte) error {
	i, bs := f.i, f.bs
	m := int64(len(b))
	nb := (m + bs - 1) / bs
	clear(window[m : nb*bs])
	for k := int64(0); k < nb; k++ {
		lb := pos/bs + k
		buf, want := window[k*bs:(k+1)*bs], f.blocks.At(lb)
		if tree.BlockDigest(buf) != want {
			return fmtInvalid("inode %d: new content changed between reads (block %d)", i.ino, lb)
		}
		if want == 0 {
			continue // a hole
		}
		f.seen++
		phys, _, ok := i.ext.Lookup(uint32(lb))
		if !ok {
			return wrapf(i.ino, "fill content", fmt.Errorf("logical block %d has no block placed: %w", lb, fs.ErrInvalid))
		}
		if f.old == nil {
			f.old = newOldRuns(i)
		}
		cur, err := f.old.block(uint32(lb), phys)
		if err != nil {
			return wrapf(i.ino, fmt.Sprintf("read data block %d", phys), err)
		}
		if bytes.Equal(cur, buf) {
			continue
		}
		if err := i.fs.WriteBlock(phys, buf); err != nil {
			return wrapf(i.ino, fmt.Sprintf("write data block %d", phys), err)
		}
		f.st.BlocksWritten++
	}
	return nil
}
