package file_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
)

// share makes inode ino use xattr block blk too, as the kernel's mbcache
// sharing does: i_file_acl, i_blocks and the block's h_refcount.
func (x *fixture) share(ino uint32, blk uint64) {
	x.t.Helper()
	raw, err := x.f.ReadInode(ino)
	if err != nil {
		x.t.Fatal(err)
	}
	raw.SetFileACL(blk)
	raw.SetSectors(raw.Sectors(uint32(x.v.bs)) + uint64(x.v.bs/512))
	if err := x.f.WriteInode(ino, raw); err != nil {
		x.t.Fatal(err)
	}
	b, err := x.f.ReadBlock(blk)
	if err != nil {
		x.t.Fatal(err)
	}
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[4:], binary.LittleEndian.Uint32(b[4:])+1)
	xattr.SetBlockChecksum(b, blk, x.f.CsumSeed())
	if err := x.f.WriteBlock(blk, b); err != nil {
		x.t.Fatal(err)
	}
}

// TestSharedXattrBlock: a block shared by three inodes is never rewritten
// for one of them; changing or freeing one only drops its reference.
func TestSharedXattrBlock(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		big := []tree.Xattr{{Name: "user.big", Value: bytes.Repeat([]byte("s"), 700)}}
		x := newFixture(t, v, func(x *fixture) {
			for _, p := range []string{"a", "b", "c"} {
				x.write(p, []byte(p))
				x.setXattr(p, "user.big", big[0].Value)
			}
		})
		// mke2fs -d gives each file its own block; share a's with b and c
		// and free theirs.
		a := x.open("a").Raw()
		blk := a.FileACL()
		for _, p := range []string{"b", "c"} {
			in := x.open(p)
			if _, err := in.SetXattrs(nil); err != nil {
				t.Fatal(err)
			}
			x.save(in)
			x.share(in.Ino(), blk)
		}
		x.check()
		before, err := x.f.ReadBlock(blk)
		if err != nil {
			t.Fatal(err)
		}
		before = bytes.Clone(before)

		// b changes its xattrs: it gets a block of its own.
		x.setXattrsBoth("b", []tree.Xattr{{Name: "user.big", Value: bytes.Repeat([]byte("t"), 700)}})
		if got := x.open("b").Raw().FileACL(); got == blk || got == 0 {
			t.Errorf("b's xattr block %d, want a new one (shared is %d)", got, blk)
		}
		// c is freed: the shared block loses one more reference.
		in := x.load(x.unlink("", "c", false))
		if err := in.Free(); err != nil {
			t.Fatal(err)
		}
		removeSrc(t, x, "c")
		after, err := x.f.ReadBlock(blk)
		if err != nil {
			t.Fatal(err)
		}
		if rc := binary.LittleEndian.Uint32(after[4:]); rc != 1 {
			t.Errorf("shared block refcount %d, want 1", rc)
		}
		if !bytes.Equal(after[0x20:], before[0x20:]) {
			t.Errorf("shared block entries changed")
		}
		x.check()
	})
}
