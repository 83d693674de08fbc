package xattr

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// OrderLike orders attrs for Layout so that an inode keeps its current
// placement: the attributes the inode body raw (the whole old inode) holds
// come first, in their on-disk order, then the others in the order given.
//
// Layout places greedily in order, as mke2fs -d does in the source's
// listxattr order, which the decoders (sorted by name) lose. For an inode
// mke2fs or the kernel wrote, Layout(OrderLike(decoded, raw)) reproduces
// its bytes: the body's attributes fit again, and any attribute that went to
// the block found less room in the body than they leave.
func OrderLike(attrs []tree.Xattr, raw []byte, ino uint32) ([]tree.Xattr, error) {
	body, err := decodeInodeRaw(raw)
	if err != nil {
		return nil, fmt.Errorf("xattr: inode %d: %w", ino, err)
	}
	byName := make(map[string]int, len(attrs))
	for i, x := range attrs {
		byName[x.Name] = i
	}
	out := make([]tree.Xattr, 0, len(attrs))
	taken := make([]bool, len(attrs))
	for _, a := range body {
		if i, ok := byName[a.name()]; ok && !taken[i] {
			out = append(out, attrs[i])
			taken[i] = true
		}
	}
	for i, x := range attrs {
		if !taken[i] {
			out = append(out, x)
		}
	}
	return out, nil
}
