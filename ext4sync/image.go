package ext4sync

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
)

// readImage reads the filesystem's current tree and the inode of every
// path, without Contents (fstree.ReadMetadata): kept files are
// compared by the inode layer as they are written, so no inode is kept
// in memory for them.
func readImage(f *fs.FS) (plan.Old, error) {
	r, err := fstree.ReadMetadata(f)
	if err != nil {
		return plan.Old{}, err
	}
	return plan.Old{Tree: r.Tree, Inode: r.Inode}, nil
}
