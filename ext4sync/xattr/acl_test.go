package xattr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestACLRoundTrip(t *testing.T) {
	const u = ACLUndefinedID
	vfs := vfsACL([3]uint32{aclUserObj, 6, u}, [3]uint32{aclUser, 4, 1000},
		[3]uint32{aclGroupObj, 4, u}, [3]uint32{aclGroup, 2, 50},
		[3]uint32{aclMask, 6, u}, [3]uint32{aclOther, 0, u})
	d, err := ACLToDisk(vfs)
	if err != nil {
		t.Fatal(err)
	}
	// 4-byte header, four short entries, two full ones.
	if want := 4 + 4*4 + 2*8; len(d) != want {
		t.Fatalf("disk ACL is %d bytes, want %d", len(d), want)
	}
	if v := binary.LittleEndian.Uint32(d); v != aclDiskVersion {
		t.Fatalf("disk version %d", v)
	}
	back, err := ACLFromDisk(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, vfs) {
		t.Fatalf("round trip:\n got %x\nwant %x", back, vfs)
	}
	// e2fsprogs reports 0 where the kernel reports ACLUndefinedID; both
	// store the same bytes, so Equal treats them alike.
	zero := vfsACL([3]uint32{aclUserObj, 6, 0}, [3]uint32{aclUser, 4, 1000},
		[3]uint32{aclGroupObj, 4, 0}, [3]uint32{aclGroup, 2, 50},
		[3]uint32{aclMask, 6, 0}, [3]uint32{aclOther, 0, 0})
	a := byteXattrs{{NameACLAccess, vfs}}
	b := byteXattrs{{NameACLAccess, zero}}
	if !Equal(a.attrs(), b.attrs()) {
		t.Error("Equal: ACLs differing only in unused ids are unequal")
	}
	c := byteXattrs{{"user.x", vfs}}
	d2 := byteXattrs{{"user.x", zero}}
	if Equal(c.attrs(), d2.attrs()) {
		t.Error("Equal: non-ACL values compared as ACLs")
	}
}

func TestACLErrors(t *testing.T) {
	good := vfsACL([3]uint32{aclUserObj, 6, ACLUndefinedID})
	cases := map[string][]byte{
		"short":       {2, 0},
		"version":     append([]byte{3, 0, 0, 0}, good[4:]...),
		"no entries":  vfsACL(),
		"partial":     append(append([]byte{}, good...), 1, 2, 3),
		"bad tag":     vfsACL([3]uint32{0x40, 6, 0}),
		"old version": append([]byte{1, 0, 0, 0}, good[4:]...),
	}
	for name, v := range cases {
		if _, err := ACLToDisk(v); !errors.Is(err, ErrACL) {
			t.Errorf("ACLToDisk %s: err %v, want ErrACL", name, err)
		}
	}
	disk := []byte{1, 0, 0, 0, aclUserObj, 0, 6, 0}
	dcases := map[string][]byte{
		"short":      {1, 0},
		"version":    append([]byte{2, 0, 0, 0}, disk[4:]...),
		"no entries": disk[:4],
		"cut short":  disk[:6],
		"cut id":     {1, 0, 0, 0, aclUser, 0, 6, 0, 1, 0},
		"bad tag":    {1, 0, 0, 0, 0x80, 0, 6, 0},
	}
	for name, v := range dcases {
		if _, err := ACLFromDisk(v); !errors.Is(err, ErrACL) {
			t.Errorf("ACLFromDisk %s: err %v, want ErrACL", name, err)
		}
	}
}
