package file

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

var kindModes = []struct {
	kind tree.Kind
	mode uint16
	ft   dir.FileType
}{
	{tree.Regular, disk.ModeRegular, dir.TypeRegular},
	{tree.Dir, disk.ModeDir, dir.TypeDir},
	{tree.Symlink, disk.ModeSymlink, dir.TypeSymlink},
	{tree.CharDev, disk.ModeChar, dir.TypeCharDev},
	{tree.BlockDev, disk.ModeBlock, dir.TypeBlock},
	{tree.FIFO, disk.ModeFIFO, dir.TypeFIFO},
	{tree.Socket, disk.ModeSocket, dir.TypeSocket},
}

// kindOfMode maps i_mode's type bits to a Kind.
func kindOfMode(mode uint16) (tree.Kind, bool) {
	for _, m := range kindModes {
		if mode&disk.ModeTypeMask == m.mode {
			return m.kind, true
		}
	}
	return 0, false
}

// modeOfKind is the i_mode type bits of a Kind.
func modeOfKind(k tree.Kind) (uint16, bool) {
	for _, m := range kindModes {
		if m.kind == k {
			return m.mode, true
		}
	}
	return 0, false
}

// DirType is the directory-entry file type of a Kind (TypeUnknown for an
// unknown kind).
func DirType(k tree.Kind) dir.FileType {
	for _, m := range kindModes {
		if m.kind == k {
			return m.ft
		}
	}
	return dir.TypeUnknown
}
