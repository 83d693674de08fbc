package overlay

import (
	"fmt"
	"os"
)

// slot holds one changed block: in memory, or in the spill file at off.
type slot struct {
	mem []byte
	off int64
}

// store keeps the blocks that differ from the base.
type store struct {
	slots     map[int64]*slot
	memBytes  int64
	spill     *os.File
	spillPath string  // set only if the spill file could not be unlinked at once
	spillFree []int64 // offsets of freed spill slots, reused first
	spillEnd  int64
}

func newStore() store { return store{slots: map[int64]*slot{}} }

// loadBlock copies changed block b into dst and reports whether b is
// changed; dst is untouched when it is not.
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
		s = &slot{}
		if d.memBytes+d.bs <= d.memLimit {
			s.mem = make([]byte, d.bs)
			d.memBytes += d.bs
		} else {
			off, err := d.allocSpill()
			if err != nil {
				return fmt.Errorf("overlay: spill block %d: %w", b, err)
			}
			s.off = off
		}
		d.slots[b] = s
	}
	if s.mem != nil {
		copy(s.mem, data)
		return nil
	}
	if _, err := d.spill.WriteAt(data[:d.bs], s.off); err != nil {
		return fmt.Errorf("overlay: write block %d to the spill file at byte %d: %w", b, s.off, err)
	}
	return nil
}

// dropBlock forgets block b: it holds its base content again.
func (d *Device) dropBlock(b int64) {
	s, ok := d.slots[b]
	if !ok {
		return
	}
	if s.mem != nil {
		d.memBytes -= d.bs
	} else {
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
