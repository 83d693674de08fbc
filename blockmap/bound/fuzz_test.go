package bound

import (
	"io"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// FuzzFacts scans two arbitrary images in arbitrary windows, gathers facts
// over a layout whose inode tables and sizes come from the input, and
// bounds them under a few models: nothing may panic, and an accepted
// bound never exceeds the image's units.
func FuzzFacts(f *testing.F) {
	f.Add([]byte("aaaabbbbccccdddd"), []byte("aaaaXbbbcc\x00\x00dddd"), uint8(3), uint8(1), uint16(4), uint8(2))
	f.Add(make([]byte, 4096), make([]byte, 4096), uint8(0), uint8(0), uint16(256), uint8(200))
	f.Add([]byte{}, []byte{}, uint8(7), uint8(9), uint16(0), uint8(0))
	f.Fuzz(checkFacts)
}

// checkFacts is FuzzFacts' property for one input.
func checkFacts(t *testing.T, old, new []byte, window, table uint8, inodeSize uint16, inodes uint8) {
	const bs = 512
	n := min(len(old), len(new), 16<<10)
	old, new = old[:n], new[:n]
	s, err := NewScan(bs)
	if err != nil {
		t.Fatal(err)
	}
	step := int(window) + 1
	for pos := 0; pos < n; pos += step {
		end := min(pos+step, n)
		s.Window(old[pos:end], new[pos:end])
	}
	r, err := s.Finish()
	if err != nil {
		t.Fatal(err)
	}
	blocks := uint64((n + bs - 1) / bs)
	l := &disk.Layout{Geometry: disk.Geometry{BlockSize: bs, BlocksCount: max(blocks, 1), BlocksPerGroup: 64, InodesPerGroup: uint32(inodes),
		InodeSize: inodeSize, DescSize: 32, GdtBlocks: 1, ItableBlocks: uint64(table%4) + 1},
		Group: []disk.GroupMeta{{Super: true, BlockBitmap: 2, InodeBitmap: 3, InodeTable: uint64(table % 8)}}}
	var data []uint64
	for b := uint64(0); b < blocks; b += 2 {
		data = append(data, b)
	}
	facts, err := Gather(bytesReader(old), bytesReader(new), l, r, data)
	if err != nil {
		return
	}
	if facts.NewData > r.ChangedBlocks() {
		t.Fatalf("%d new data blocks of %d changed", facts.NewData, r.ChangedBlocks())
	}
	for _, w := range []int64{bs, 4096, 1 << 20} {
		m := blockmap.Model{WriteUnit: w, Chunk: 4096, ImageSize: int64(n)}
		b, err := facts.Bound(m)
		if err == nil && b.Units > m.Units() {
			t.Fatalf("W=%d: bound %+v over %d units", w, b, m.Units())
		}
	}
}

// bytesReader is an io.ReaderAt over a byte slice.
type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
