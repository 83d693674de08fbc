package xattr

import "testing"

// The fuzz targets check that malformed input gives errors, never panics,
// and that whatever decodes lays out again. Run them with a short
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
		if _, _, err := Layout(attrs, 0, len(b), "fuzz"); err != nil {
			t.Fatalf("re-layout of a decoded block: %v", err)
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
		if _, _, err := Layout(attrs, len(raw)-off, 0, "fuzz"); err != nil {
			t.Fatalf("re-layout of decoded in-inode xattrs: %v", err)
		}
	})
}
