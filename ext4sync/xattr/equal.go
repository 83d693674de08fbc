package xattr

import (
	"bytes"
	"fmt"
)

// Equal reports whether two xattr sets hold the same names with the same
// values, in any order. POSIX ACLs compare by what ext4 stores, so the ids
// the VFS encoding carries for owner, group, mask and other entries (unused:
// ACLUndefinedID from the kernel, 0 from e2fsprogs) do not matter.
func Equal(a, b []Attr) bool {
	if len(a) != len(b) {
		return false
	}
	byName := make(map[string][]byte, len(a))
	for _, x := range a {
		byName[x.Name] = x.Value
	}
	if len(byName) != len(a) {
		return false
	}
	for _, y := range b {
		v, ok := byName[y.Name]
		if !ok || !valueEqual(y.Name, v, y.Value) {
			return false
		}
		delete(byName, y.Name)
	}
	return len(byName) == 0
}

func valueEqual(name string, a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if !isACLName(name) {
		return false
	}
	da, errA := ACLToDisk(a)
	db, errB := ACLToDisk(b)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}

// Merge joins an inode's in-inode and block xattrs into one set sorted by
// name; a name in both is corruption.
func Merge(inInode, block []Attr, ino uint32) ([]Attr, error) {
	out := make([]Attr, 0, len(inInode)+len(block))
	seen := make(map[string]bool, len(inInode))
	for _, x := range inInode {
		seen[x.Name] = true
		out = append(out, x)
	}
	for _, x := range block {
		if seen[x.Name] {
			return nil, fmt.Errorf("xattr: inode %d: %q is both in the inode and in its block: %w", ino, x.Name, ErrCorrupt)
		}
		out = append(out, x)
	}
	sortByName(out)
	return out, nil
}
