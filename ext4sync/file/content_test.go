package file_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
)

// writeBoth makes p's content b in the image (through WriteContent) and in
// the source tree, and returns the stats.
func (x *fixture) writeBoth(p string, b []byte) file.ContentStats {
	x.t.Helper()
	in := x.open(p)
	st, err := in.WriteContent(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		x.t.Fatal(err)
	}
	x.save(in)
	x.write(p, b)
	got, err := io.ReadAll(x.open(p).NewReader())
	if err != nil || !bytes.Equal(got, b) {
		x.t.Fatalf("%s: read back %d bytes (err %v), want %d equal bytes", p, len(got), err, len(b))
	}
	return st
}

// TestWriteContentSameSize changes one block in the middle of a file and
// proves that exactly that block of the device changed.
func TestWriteContentSameSize(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		old := randBytes(1, 20*v.bs)
		x := newFixture(t, v, func(x *fixture) { x.write("f", old) })
		in := x.open("f")
		phys := physOf(t, x, in, 7)
		b := bytes.Clone(old)
		b[7*v.bs+10] ^= 0xFF
		st := x.writeBoth("f", b)
		if !st.Changed || st.BlocksWritten != 1 || st.BlocksAllocated != 0 || st.BlocksFreed != 0 {
			t.Errorf("stats %+v, want one block written", st)
		}
		if err := x.f.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := x.dev.ChangedBlocks(); len(got) != 1 || uint64(got[0]) != phys {
			t.Errorf("changed blocks %v, want only data block %d", got, phys)
		}
		// Writing the same bytes again changes nothing at all.
		st = x.writeBoth("f", b)
		if st.Changed || st.BlocksWritten != 0 {
			t.Errorf("rewrite of equal content: %+v", st)
		}
		x.check()
	})
}

// physOf is the physical block of logical block lblk, read by reading the
// file through ReadAt and comparing with the device (independent of Lookup).
func physOf(t *testing.T, x *fixture, in *file.Inode, lblk int) uint64 {
	t.Helper()
	want := make([]byte, x.v.bs)
	if _, err := in.ReadAt(want, int64(lblk*x.v.bs)); err != nil {
		t.Fatal(err)
	}
	blk := make([]byte, x.v.bs)
	for b := uint64(0); b < x.f.BlocksCount(); b++ {
		if _, err := x.dev.ReadAt(blk, int64(b)*int64(x.v.bs)); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(blk, want) {
			return b
		}
	}
	t.Fatalf("logical block %d not found on the device", lblk)
	return 0
}

// TestWriteContentResize grows, shrinks and truncates files, and turns zero
// blocks into holes.
func TestWriteContentResize(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		x := newFixture(t, v, func(x *fixture) {
			x.write("grow", randBytes(2, 3*v.bs+100))
			x.write("shrink", randBytes(3, 20*v.bs))
			x.write("trunc", randBytes(4, 9*v.bs))
			x.write("holes", randBytes(5, 12*v.bs))
			x.write("d/empty", nil)
		})
		if st := x.writeBoth("grow", randBytes(6, 30*v.bs+7)); st.BlocksAllocated != 27 || !st.Changed {
			t.Errorf("grow: %+v, want 27 allocated", st)
		}
		if st := x.writeBoth("shrink", randBytes(3, 20*v.bs)[:5*v.bs+1]); st.BlocksFreed != 14 || st.BlocksWritten != 1 {
			t.Errorf("shrink: %+v, want 14 freed, the partial last block written", st)
		}
		if st := x.writeBoth("trunc", nil); st.BlocksFreed != 9 {
			t.Errorf("truncate: %+v, want 9 freed", st)
		}
		h := randBytes(5, 12*v.bs)
		clear(h[3*v.bs : 5*v.bs])
		clear(h[11*v.bs:])
		if st := x.writeBoth("holes", h); st.BlocksFreed != 3 || st.BlocksWritten != 0 {
			t.Errorf("holes: %+v, want 3 freed", st)
		}
		big := randBytes(7, 40*v.bs)
		clear(big[:2*v.bs])
		if st := x.writeBoth("d/empty", big); st.BlocksAllocated != 38 {
			t.Errorf("empty->sparse: %+v, want 38 allocated", st)
		}
		out := x.check()
		snap := ext4test.SnapshotImage(t, out)
		e := snap.Entries["holes"]
		if e == nil || e.Data == nil {
			t.Fatalf("debugfs reports no data ranges for holes: %+v", e)
		}
		bs := int64(v.bs)
		if len(e.Data) != 2 || e.Data[0].Off != 0 || e.Data[0].Len != 3*bs || e.Data[1].Off != 5*bs || e.Data[1].Len != 6*bs {
			t.Errorf("holes data ranges %+v, want [0,3) and [5,11) blocks", e.Data)
		}
	})
}
