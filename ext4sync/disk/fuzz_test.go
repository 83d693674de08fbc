package disk

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and
// whatever decodes must encode back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(make([]byte, SuperblockSize))
	in := make([]byte, 256)
	in[0x80] = 32
	f.Add(in)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var sb Superblock
		if sb.Unmarshal(b) == nil {
			out := make([]byte, SuperblockSize)
			sb.Marshal(out)
			if !bytes.Equal(out, b[:SuperblockSize]) {
				t.Fatal("superblock does not round-trip")
			}
			_ = sb.BlockSize()
			_ = sb.VerifyChecksum()
		}
		for _, size := range []int{GroupDescSize32, GroupDescSize64} {
			var gd GroupDesc
			if gd.Unmarshal(b, size) == nil {
				out := make([]byte, size)
				if err := gd.Marshal(out, size); err != nil || !bytes.Equal(out, b[:size]) {
					t.Fatalf("descriptor of %d bytes does not round-trip", size)
				}
			}
		}
		for _, size := range []int{GoodOldInodeSize, 256, len(b)} {
			if size > len(b) {
				continue
			}
			var ino Inode
			if ino.Unmarshal(b[:size]) == nil {
				out := make([]byte, size)
				if err := ino.Marshal(out); err != nil || !bytes.Equal(out, b[:size]) {
					t.Fatalf("inode of %d bytes does not round-trip (%v)", size, err)
				}
				_ = VerifyInodeChecksum(1, b[:size])
			}
		}
	})
}

func TestInodeExtraBeyondKnownFields(t *testing.T) {
	b := make([]byte, 256)
	b[0x80] = 40
	for i := 0xA0; i < 256; i++ {
		b[i] = byte(i)
	}
	var in Inode
	if err := in.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 256)
	if err := in.Marshal(out); err != nil || !bytes.Equal(out, b) {
		t.Fatalf("round trip: %v", err)
	}
}
