package bound

import (
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

const testInodeSize = 256

// rawInode marshals an inode of testInodeSize bytes.
func rawInode(t *testing.T, in *disk.Inode) []byte {
	t.Helper()
	b := make([]byte, testInodeSize)
	if in == nil {
		return b
	}
	in.ExtraIsize = 32
	if err := in.Marshal(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func regular() *disk.Inode {
	in := &disk.Inode{Mode: disk.ModeRegular | 0o644, LinksCount: 1, Mtime: 1000, Ctime: 1000}
	in.SetSize(5000)
	in.SetUID(1000)
	return in
}

func TestCompareTable(t *testing.T) {
	dir := func() *disk.Inode {
		in := &disk.Inode{Mode: disk.ModeDir | 0o755, LinksCount: 2, Mtime: 1000}
		in.SetSize(4096)
		return in
	}
	cases := []struct {
		name     string
		old, new func() *disk.Inode // nil: a free slot
		forced   bool
		delta    int64
	}{
		{"unchanged", regular, regular, false, 0},
		{"placement fields only", regular, func() *disk.Inode {
			in := regular()
			in.Ctime, in.Block[0], in.Generation = 2000, 7, 9
			return in
		}, false, 0},
		{"removed", regular, nil, true, -1},
		{"added", nil, regular, false, 1},
		{"resized", regular, func() *disk.Inode { in := regular(); in.SetSize(6000); return in }, true, 0},
		{"touched", regular, func() *disk.Inode { in := regular(); in.Mtime++; return in }, true, 0},
		{"chmod", regular, func() *disk.Inode { in := regular(); in.Mode ^= 0o100; return in }, true, 0},
		{"chown", regular, func() *disk.Inode { in := regular(); in.SetGID(5); return in }, true, 0},
		{"linked", regular, func() *disk.Inode { in := regular(); in.LinksCount++; return in }, true, 0},
		{"retyped", regular, dir, true, 0},
		{"directory grew", dir, func() *disk.Inode { in := dir(); in.SetSize(8192); return in }, false, 0},
		{"unlinked but not cleared", regular, func() *disk.Inode { in := regular(); in.LinksCount = 0; return in }, true, -1},
	}
	for _, c := range cases {
		mk := func(f func() *disk.Inode) []byte {
			if f == nil {
				return rawInode(t, nil)
			}
			return rawInode(t, f())
		}
		// The case's inode sits in slot 1 of a 4-slot block between
		// unchanged and free slots; a slot past the table's end is ignored.
		old := append(append(append(rawInode(t, regular()), mk(c.old)...), rawInode(t, nil)...), rawInode(t, regular())...)
		new := append(append(append(rawInode(t, regular()), mk(c.new)...), rawInode(t, nil)...), rawInode(t, nil)...)
		forced, delta := compareTable(old, new, testInodeSize, 3)
		if forced != c.forced || delta != c.delta {
			t.Errorf("%s: forced %v delta %d, want %v %d", c.name, forced, delta, c.forced, c.delta)
		}
	}
	if forced, delta := compareTable(make([]byte, 100), make([]byte, 100), testInodeSize, 1); forced || delta != 0 {
		t.Error("a short block yielded inodes")
	}
}
