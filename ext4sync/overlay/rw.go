package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ReadAt reads the device: the base overlaid with every write. Like any
// io.ReaderAt it returns io.EOF when fewer than len(p) bytes remain.
func (d *Device) ReadAt(p []byte, off int64) (int, error) {
	if d.closed {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("overlay: read at negative offset %d", off)
	}
	if off >= d.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := min(int64(len(p)), d.size-off)
	for pos := off; pos < off+n; {
		b := pos / d.bs
		blockEnd := min((b+1)*d.bs, off+n)
		if s, ok := d.slots[b]; ok {
			if err := d.readSlot(b, s, p[pos-off:blockEnd-off], pos-b*d.bs); err != nil {
				return int(pos - off), err
			}
			pos = blockEnd
			continue
		}
		// A run of unchanged blocks is one read of the base.
		end := blockEnd
		for end < off+n {
			if _, ok := d.slots[end/d.bs]; ok {
				break
			}
			end = min(end+d.bs, off+n)
		}
		if err := d.readBase(p[pos-off:end-off], pos); err != nil {
			return int(pos - off), err
		}
		pos = end
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// readSlot copies len(dst) bytes of changed block b, from byte within on.
func (d *Device) readSlot(b int64, s *slot, dst []byte, within int64) error {
	if s.mem != nil {
		copy(dst, s.mem[within:])
		return nil
	}
	if _, err := d.spill.ReadAt(dst, s.off+within); err != nil {
		return fmt.Errorf("overlay: read block %d from the spill file at byte %d: %w", b, s.off+within, err)
	}
	return nil
}

// readBase reads exactly len(p) bytes of the base at off.
func (d *Device) readBase(p []byte, off int64) error {
	n, err := d.base.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("overlay: read base at byte %d (%d bytes): %w", off, len(p), err)
}

// WriteAt writes p at off. A write that would reach past the end of the
// device is refused whole. Bytes equal to what the device already holds
// are not a change; a block that ends up equal to the base is no longer
// changed.
func (d *Device) WriteAt(p []byte, off int64) (int, error) {
	if d.closed {
		return 0, ErrClosed
	}
	if off < 0 || off > d.size || int64(len(p)) > d.size-off {
		return 0, fmt.Errorf("overlay: write of %d bytes at byte %d: past the end of the %d-byte device",
			len(p), off, d.size)
	}
	end := off + int64(len(p))
	for pos := off; pos < end; {
		b := pos / d.bs
		blockEnd := min((b+1)*d.bs, end)
		if err := d.writeBlock(b, p[pos-off:blockEnd-off], pos-b*d.bs); err != nil {
			return int(pos - off), err
		}
		pos = blockEnd
	}
	return len(p), nil
}

// writeBlock writes src into block b from byte within on.
func (d *Device) writeBlock(b int64, src []byte, within int64) error {
	ln := d.blockLen(b)
	base := d.baseBuf[:ln]
	cur := d.curBuf[:ln]
	if err := d.readBase(base, b*d.bs); err != nil {
		return err
	}
	changed, err := d.loadBlock(b, d.curBuf)
	if err != nil {
		return err
	}
	if !changed {
		copy(cur, base)
	}
	seg := cur[within : within+int64(len(src))]
	if bytes.Equal(seg, src) {
		return nil // what the device holds already
	}
	copy(seg, src)
	if bytes.Equal(cur, base) {
		d.dropBlock(b)
		return nil
	}
	return d.putBlock(b, d.curBuf)
}
