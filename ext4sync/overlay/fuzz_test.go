package overlay

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzDevice replays arbitrary writes (offsets and lengths may be anywhere,
// including past the end) against a reference model: the device must never
// panic, must refuse exactly the writes that do not fit, and must always
// read and report changes as the model says.
func FuzzDevice(f *testing.F) {
	f.Add(uint16(1024), uint16(5000), int16(2), []byte{0, 1, 200, 3, 0xff, 0xfe, 9, 9, 9})
	f.Add(uint16(0), uint16(0), int16(-1), []byte{})
	f.Add(uint16(7), uint16(100), int16(1), []byte{90, 0, 30, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, bs, size uint16, memBlocks int16, ops []byte) {
		base := make([]byte, size)
		for i := range base {
			base[i] = byte(i * 7)
		}
		model := bytes.Clone(base)
		d := New(bytes.NewReader(base), int64(size), Options{
			BlockSize: int(bs % 4097), MemLimit: int64(memBlocks) * int64(bs%4097), TempDir: t.TempDir()})
		defer d.Close()
		// Each op: offset u16, length u8, fill byte.
		for i := 0; i+4 <= len(ops) && i < 4*200; i += 4 {
			off := int64(binary.LittleEndian.Uint16(ops[i:]))
			n := int64(ops[i+2])
			p := bytes.Repeat([]byte{ops[i+3]}, int(n))
			k, err := d.WriteAt(p, off)
			fits := off+n <= int64(size)
			if fits != (err == nil) || (fits && k != len(p)) || (!fits && k != 0) {
				t.Fatalf("WriteAt(%d bytes, %d) on %d bytes = %d, %v", n, off, size, k, err)
			}
			if fits {
				copy(model[off:], p)
			}
		}
		checkDevice(t, d, base, model)
	})
}
