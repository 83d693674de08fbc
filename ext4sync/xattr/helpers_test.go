package xattr

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"

type byteXattr struct {
	name  string
	value []byte
}

type byteXattrs []byteXattr

func (b byteXattrs) tree() []tree.Xattr {
	out := make([]tree.Xattr, len(b))
	for i, x := range b {
		out[i] = tree.Xattr{Name: x.name, Value: x.value}
	}
	return out
}
