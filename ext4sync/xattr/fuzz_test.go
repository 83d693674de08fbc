package xattr

import (
	"testing"
)

// The fuzz targets check that malformed input gives errors, never panics,
// and that whatever decodes encodes again. Run them with a short
// -fuzzminimizetime (e.g. 2s): minimizing 1 KiB inputs that must keep a
// valid checksum otherwise takes the default minute per new input.

func FuzzDecodeBlock(f *testing.F) {
	f.Add(validBlock(f), false)
	f.Add(validBlock(f), true)
	f.Add(make([]byte, 64), false)
	f.Fuzz(func(t *testing.T, b []byte, csum bool) {
		attrs, _, err := DecodeBlock(b, testBlk, BlockOptions{Checksum: csum, FSSeed: testSeed})
		if err != nil {
			return
		}
		// Whatever decodes fits a block of the same size again.
		if _, _, err := Encode(attrs, 0, len(b), "fuzz"); err != nil {
			t.Fatalf("re-encode of a decoded block: %v", err)
		}
	})
}

func FuzzDecodeInode(f *testing.F) {
	f.Add(validInode(f))
	f.Add(rawInode(nil))
	f.Add(make([]byte, 130))
	f.Fuzz(func(t *testing.T, raw []byte) {
		attrs, err := DecodeInode(raw, testIno)
		if err != nil {
			return
		}
		// Whatever decodes fits the same region again.
		off, _, _ := InodeXattrOffset(raw)
		if _, _, err := Encode(attrs, len(raw)-off, 0, "fuzz"); err != nil {
			t.Fatalf("re-encode of decoded in-inode xattrs: %v", err)
		}
	})
}

// FuzzEncode encodes a set built from the input and decodes it back.
func FuzzEncode(f *testing.F) {
	f.Add("user.a", []byte("hello"), "trusted.b", []byte{}, uint16(300), false)
	f.Add("security.capability", capV2(), NameACLAccess, vfsACL([3]uint32{aclUserObj, 6, ACLUndefinedID}), uint16(900), true)
	f.Fuzz(func(t *testing.T, n1 string, v1 []byte, n2 string, v2 []byte, big uint16, smallBlock bool) {
		attrs := []Attr{{Name: n1, Value: v1}, {Name: n2, Value: v2}, {Name: "user.big", Value: fill(int(big)%3000, 1)}}
		bs := 4096
		if smallBlock {
			bs = 1024
		}
		body, block, err := Encode(attrs, testSpace, bs, "fuzz")
		if err != nil {
			return
		}
		in, err := DecodeInode(rawInode(body), testIno)
		if err != nil {
			t.Fatalf("decode of laid-out body: %v", err)
		}
		var bl []Attr
		if block != nil {
			SetBlockChecksum(block, testBlk, testSeed)
			if bl, _, err = DecodeBlock(block, testBlk, BlockOptions{Checksum: true, FSSeed: testSeed}); err != nil {
				t.Fatalf("decode of laid-out block: %v", err)
			}
		}
		all, err := Merge(in, bl, testIno)
		if err != nil {
			t.Fatal(err)
		}
		if !Equal(all, attrs) {
			t.Fatalf("round trip %v, want %v", names(all), names(attrs))
		}
	})
}
