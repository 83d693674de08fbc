package file

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// pendingMax is how many new data blocks WriteContent gathers before it
// asks the allocator for them at once.
const pendingMax = 256

// ContentStats says what WriteContent did.
type ContentStats struct {
	Changed         bool   // the content, size or mapping changed
	BlocksWritten   uint64 // data blocks written because their bytes differed (new ones included)
	BlocksAllocated uint64 // data blocks newly allocated
	BlocksFreed     uint64 // data blocks freed (now holes, or past the end)
}

// contentWriter is the state of one WriteContent call.
type contentWriter struct {
	i        *Inode
	bs       int
	maps     []extent.Mapping
	free     []fs.Extent
	pending  [][]byte
	pendLblk uint32
	prevPhys uint64
	st       ContentStats
}

// WriteContent makes a regular file's content exactly the size bytes read
// from r, in place, block by block: an all-zero block becomes a hole
// (freeing what was mapped there), a mapped block is overwritten where it
// lies (only if its bytes differ), an unmapped one is allocated through
// fs.AllocBlocks with the goal right after the previous mapped block (else
// the inode's group); blocks past the new size are freed. The extent tree is
// rebuilt reusing its node blocks, and i_size and i_blocks are updated.
func (i *Inode) WriteContent(r io.Reader, size int64) (ContentStats, error) {
	if i.kind != tree.Regular {
		return ContentStats{}, kindf(i.ino, "write content", i.kind)
	}
	bs := int64(i.fs.BlockSize())
	nblocks := (size + bs - 1) / bs
	if size < 0 || nblocks > maxLogical {
		return ContentStats{}, fmtInvalid("inode %d: content size %d cannot be stored", i.ino, size)
	}
	if i.ext == nil {
		i.setEmptyExtents()
	}
	w := &contentWriter{i: i, bs: int(bs)}
	buf := make([]byte, bs)
	for lb := int64(0); lb < nblocks; lb++ {
		n := min(bs, size-lb*bs)
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return w.st, wrapf(i.ino, fmt.Sprintf("read new content at byte %d of %d", lb*bs, size), err)
		}
		clear(buf[n:])
		if err := w.block(uint32(lb), buf); err != nil {
			return w.st, err
		}
	}
	if err := w.flush(); err != nil {
		return w.st, err
	}
	w.freeTail(uint32(nblocks))
	oldRoot, oldNodes := i.raw.Block, len(i.ext.Nodes)
	if _, err := i.rebuild(w.maps); err != nil {
		return w.st, err
	}
	for _, e := range w.free {
		if err := i.fs.FreeBlocks(e.Start, e.Len); err != nil {
			return w.st, wrapf(i.ino, fmt.Sprintf("free data blocks %d+%d", e.Start, e.Len), err)
		}
	}
	if uint64(size) != i.raw.Size() {
		i.raw.SetSize(uint64(size))
		w.st.Changed = true
	}
	if w.st.BlocksWritten+w.st.BlocksAllocated+w.st.BlocksFreed > 0 ||
		oldRoot != i.raw.Block || oldNodes != len(i.ext.Nodes) {
		w.st.Changed = true
	}
	if w.st.Changed {
		i.dirty = true
	}
	return w.st, nil
}

// block places logical block lb, whose new bytes are b.
func (w *contentWriter) block(lb uint32, b []byte) error {
	i := w.i
	phys, uninit, ok := i.ext.Lookup(lb)
	if isZero(b) {
		if ok {
			w.addFree(phys)
		}
		return w.flush()
	}
	if !ok {
		if len(w.pending) == 0 {
			w.pendLblk = lb
		}
		w.pending = append(w.pending, bytes.Clone(b))
		if len(w.pending) >= pendingMax {
			return w.flush()
		}
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	same := false
	if !uninit {
		old, err := i.fs.ReadBlock(phys)
		if err != nil {
			return wrapf(i.ino, fmt.Sprintf("read data block %d", phys), err)
		}
		same = bytes.Equal(old, b)
	}
	if !same {
		if err := i.fs.WriteBlock(phys, b); err != nil {
			return wrapf(i.ino, fmt.Sprintf("write data block %d", phys), err)
		}
		w.st.BlocksWritten++
	}
	w.addMap(lb, phys, 1)
	return nil
}

// flush allocates and writes the gathered new blocks.
func (w *contentWriter) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	i := w.i
	req := fs.BlockRequest{N: uint64(len(w.pending)), Ino: i.ino}
	if w.prevPhys != 0 {
		req.Goal = w.prevPhys + 1
	}
	ext, err := i.fs.AllocBlocks(req)
	if err != nil {
		return wrapf(i.ino, fmt.Sprintf("allocate %d data blocks", req.N), err)
	}
	lb, k := w.pendLblk, 0
	for _, e := range ext {
		for j := uint64(0); j < e.Len && k < len(w.pending); j++ {
			if err := i.fs.WriteBlock(e.Start+j, w.pending[k]); err != nil {
				return wrapf(i.ino, fmt.Sprintf("write data block %d", e.Start+j), err)
			}
			k++
		}
		w.addMap(lb, e.Start, uint32(e.Len))
		lb += uint32(e.Len)
	}
	if k != len(w.pending) {
		return wrapf(i.ino, "allocate data blocks", fmt.Errorf("allocator returned %d of %d blocks: %w", k, len(w.pending), fs.ErrInvalid))
	}
	w.st.BlocksAllocated += uint64(k)
	w.st.BlocksWritten += uint64(k)
	w.pending = w.pending[:0]
	return nil
}

// addMap appends n blocks at lb -> phys, merging with the previous run.
func (w *contentWriter) addMap(lb uint32, phys uint64, n uint32) {
	if k := len(w.maps); k > 0 {
		last := &w.maps[k-1]
		if last.Logical+last.Len == lb && last.Physical+uint64(last.Len) == phys && uint64(last.Len)+uint64(n) <= extent.MaxInitLen {
			last.Len += n
			w.prevPhys = phys + uint64(n) - 1
			return
		}
	}
	w.maps = append(w.maps, extent.Mapping{Logical: lb, Physical: phys, Len: n})
	w.prevPhys = phys + uint64(n) - 1
}

// addFree records one old data block to free once the new tree is stored.
func (w *contentWriter) addFree(phys uint64) {
	w.st.BlocksFreed++
	if k := len(w.free); k > 0 && w.free[k-1].Start+w.free[k-1].Len == phys {
		w.free[k-1].Len++
		return
	}
	w.free = append(w.free, fs.Extent{Start: phys, Len: 1})
}

// freeTail records the old blocks at or past logical block end.
func (w *contentWriter) freeTail(end uint32) {
	for _, m := range w.i.ext.Mappings {
		if m.End() <= uint64(end) {
			continue
		}
		skip := uint32(0)
		if m.Logical < end {
			skip = end - m.Logical
		}
		w.st.BlocksFreed += uint64(m.Len - skip)
		w.free = append(w.free, fs.Extent{Start: m.Physical + uint64(skip), Len: uint64(m.Len - skip)})
	}
}
