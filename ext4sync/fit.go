package ext4sync

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// mtimeExtraEnd is the i_extra_isize that covers i_mtime_extra.
const mtimeExtraEnd = 0x8C - disk.GoodOldInodeSize

// fitTimes returns src with every mtime as the image's inodes will hold
// it (disk.TruncateTime: 128-byte inodes keep whole seconds from 1901 to
// 2038, larger ones nanoseconds up to 2446), so that the plan compares
// what can be stored: a node whose only difference is what the image
// cannot hold is unchanged, and a no-op release stays one. src itself is
// returned when nothing needs truncating; otherwise the changed nodes
// are copies, and src's own nodes are left as the source made them.
func fitTimes(f *fs.FS, src *tree.Tree) *tree.Tree {
	extra := int(f.NewInode().ExtraIsize) >= mtimeExtraEnd
	var nodes []*tree.Node
	for i, n := range src.Nodes {
		sec, nsec := disk.TruncateTime(n.Mtime.Sec, n.Mtime.Nsec, extra)
		if sec == n.Mtime.Sec && nsec == n.Mtime.Nsec {
			if nodes != nil {
				nodes = append(nodes, n)
			}
			continue
		}
		if nodes == nil {
			nodes = append(make([]*tree.Node, 0, len(src.Nodes)), src.Nodes[:i]...)
		}
		c := *n
		c.Mtime = tree.Time{Sec: sec, Nsec: nsec}
		nodes = append(nodes, &c)
	}
	if nodes == nil {
		return src
	}
	return tree.New(nodes, src.Contents)
}
