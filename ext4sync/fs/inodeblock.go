package fs

import "sync"

// inodeWindow is how many blocks of the inode table ReadInode reads at
// once: 64 KiB at 4 KiB blocks, 256 inodes of 256 bytes.
const inodeWindow = 16

// inodeBlocks keeps the inode table blocks ReadInode read last, while a
// caller that loads many inodes holds them (HoldInodeBlocks). Files made
// together sit side by side in the table, so one device read of a window
// of blocks serves the inodes after it too, where each took its own read.
// Any write through the FS drops the window, so a read never sees bytes
// older than the device's; a write to the device past the FS is not seen
// while the window is held.
type inodeBlocks struct {
	mu    sync.Mutex // the workers of a digest pass read the image at once
	holds int        // callers holding the window; 0: ReadInode reads each inode
	start uint64     // first block held
	n     uint64     // blocks held; 0: none
	buf   []byte
}

// HoldInodeBlocks makes ReadInode read the inode table a window of
// blocks at a time and keep the last window, until release is called
// (for a walk that loads every inode of a tree, in table order where it
// can). Holds nest.
func (f *FS) HoldInodeBlocks() (release func()) {
	c := &f.inodeBlk
	c.mu.Lock()
	c.holds++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.holds--; c.holds == 0 {
			c.n, c.buf = 0, nil
		}
	}
}

// readInodeRaw fills raw with the inode at byte off of inode table block
// blk. Held, it reads the window holding blk; if that cannot be read,
// the inode alone is read, so the outcome and its error are exactly that
// read's.
func (f *FS) readInodeRaw(raw []byte, blk uint64, off int) error {
	c := &f.inodeBlk
	bs := uint64(f.geo.BlockSize)
	c.mu.Lock()
	if c.holds == 0 {
		// Unheld, concurrent readers (a digest pass's workers) must not
		// wait on each other's device reads.
		c.mu.Unlock()
		return f.readAt(raw, int64(blk*bs)+int64(off))
	}
	defer c.mu.Unlock()
	if c.n == 0 || blk < c.start || blk >= c.start+c.n {
		start := blk - blk%inodeWindow
		n := min(uint64(inodeWindow), f.geo.BlocksCount-start)
		if c.buf == nil {
			c.buf = make([]byte, inodeWindow*bs)
		}
		c.n = 0
		if err := f.readAt(c.buf[:n*bs], int64(start*bs)); err != nil {
			return f.readAt(raw, int64(blk*bs)+int64(off))
		}
		c.start, c.n = start, n
	}
	copy(raw, c.buf[(blk-c.start)*bs+uint64(off):])
	return nil
}

// dropInodeBlocks forgets the window; every device write calls it once
// the write returned (failed or not), so no window read while the write
// was under way outlives it.
func (f *FS) dropInodeBlocks() {
	c := &f.inodeBlk
	c.mu.Lock()
	c.n = 0
	c.mu.Unlock()
}
