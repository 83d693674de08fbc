package overlay

import (
	"fmt"
	"os"
)

// slot holds one changed block: in memory (mem), in the spill file at off
// (off >= 0), or both, the memory copy then being the current one.
type slot struct {
	mem        []byte
	off        int64 // -1: no place in the spill file yet
	blk        int64
	prev, next *slot // recency of the blocks in memory, most recent first
}

// store keeps the blocks that differ from the base: up to memLimit bytes
// of them in memory, the least recently written ones written back to a
// spill file when more are needed, so blocks written again and again
// (inode tables, bitmaps) stay in memory however much data a sync writes.
type store struct {
	slots     map[int64]*slot
	memBytes  int64
	lru       slot // sentinel of the ring of blocks in memory
	spill     *os.File
	spillPath string  // set only if the spill file could not be unlinked at once
	spillFree []int64 // offsets of freed spill slots, reused first
	spillEnd  int64
}

func newStore() store { return store{slots: map[int64]*slot{}} }

// initLRU makes the ring empty; done lazily so a copied zero store works.
func (s *store) initLRU() {
	if s.lru.next == nil {
		s.lru.next, s.lru.prev = &s.lru, &s.lru
	}
}

// unlink takes a slot out of the ring.
func (s *store) unlink(x *slot) {
	if x.next != nil {
		x.prev.next, x.next.prev = x.next, x.prev
		x.prev, x.next = nil, nil
	}
}

// touch puts a slot in memory at the front of the ring.
func (s *store) touch(x *slot) {
	s.initLRU()
	s.unlink(x)
	x.prev, x.next = &s.lru, s.lru.next
	s.lru.next.prev = x
	s.lru.next = x
}

// loadBlock copies changed block b into dst and reports whether b is
// changed; dst is untouched when it is not. It is used on the write path
// only: it counts as a use of the block.
func (d *Device) loadBlock(b int64, dst []byte) (bool, error) {
	s, ok := d.slots[b]
	if !ok {
		return false, nil
	}
	if s.mem != nil {
		copy(dst, s.mem)
		return true, nil
	}
	if _, err := d.spill.ReadAt(dst[:d.bs], s.off); err != nil {
		return true, fmt.Errorf("overlay: read block %d from the spill file at byte %d: %w", b, s.off, err)
	}
	return true, nil
}

// putBlock records data (one full block buffer) as the content of block b.
func (d *Device) putBlock(b int64, data []byte) error {
	s, ok := d.slots[b]
	if !ok {
		s = &slot{off: -1, blk: b}
	}
	if s.mem == nil {
		if err := d.giveMemory(s); err != nil {
			return err
		}
	}
	if s.mem == nil { // nothing may be kept in memory
		if s.off < 0 {
			off, err := d.allocSpill()
			if err != nil {
				return fmt.Errorf("overlay: spill block %d: %w", b, err)
			}
			s.off = off
		}
		if _, err := d.spill.WriteAt(data[:d.bs], s.off); err != nil {
			if !ok {
				d.spillFree = append(d.spillFree, s.off)
			}
			return fmt.Errorf("overlay: write block %d to the spill file at byte %d: %w", b, s.off, err)
		}
	} else {
		copy(s.mem, data)
		d.touch(s)
	}
	d.slots[b] = s
	return nil
}

// giveMemory finds a block of memory for s: new while under the limit,
// else the least recently written block's, which goes to the spill file.
// It leaves s.mem nil when the limit keeps nothing in memory.
func (d *Device) giveMemory(s *slot) error {
	if d.memBytes+d.bs <= d.memLimit {
		s.mem = make([]byte, d.bs)
		d.memBytes += d.bs
		return nil
	}
	d.initLRU()
	old := d.lru.prev
	if old == &d.lru {
		return nil
	}
	if old.off < 0 {
		off, err := d.allocSpill()
		if err != nil {
			return fmt.Errorf("overlay: spill block %d: %w", old.blk, err)
		}
		old.off = off
	}
	if _, err := d.spill.WriteAt(old.mem, old.off); err != nil {
		return fmt.Errorf("overlay: write block %d to the spill file at byte %d: %w", old.blk, old.off, err)
	}
	d.unlink(old)
	s.mem, old.mem = old.mem, nil
	return nil
}

// dropBlock forgets block b: it holds its base content again.
func (d *Device) dropBlock(b int64) {
	s, ok := d.slots[b]
	if !ok {
		return
	}
	if s.mem != nil {
		d.unlink(s)
		d.memBytes -= d.bs
	}
	if s.off >= 0 {
		d.spillFree = append(d.spillFree, s.off)
	}
	delete(d.slots, b)
}

// allocSpill returns the offset of a free block-sized slot in the spill
// file, creating the file on first use. The file is unlinked as soon as it
// is made, so nothing is left behind even if the process dies.
func (d *Device) allocSpill() (int64, error) {
	if n := len(d.spillFree); n > 0 {
		off := d.spillFree[n-1]
		d.spillFree = d.spillFree[:n-1]
		return off, nil
	}
	if d.spill == nil {
		f, err := os.CreateTemp(d.tempDir, "lvm-um-overlay-*")
		if err != nil {
			return 0, fmt.Errorf("create spill file: %w", err)
		}
		if err := os.Remove(f.Name()); err != nil {
			d.spillPath = f.Name()
		}
		d.spill = f
	}
	off := d.spillEnd
	d.spillEnd += d.bs
	return off, nil
}

// close releases the spill file and every block.
func (s *store) close() error {
	var err error
	if s.spill != nil {
		if cerr := s.spill.Close(); cerr != nil {
			err = fmt.Errorf("overlay: close spill file: %w", cerr)
		}
		if s.spillPath != "" {
			if rerr := os.Remove(s.spillPath); rerr != nil && err == nil {
				err = fmt.Errorf("overlay: remove spill file: %w", rerr)
			}
		}
	}
	*s = store{slots: map[int64]*slot{}}
	return err
}
