// Package imagesource reads a rootfs given as an ext4 image (what Yocto's
// do_image makes): the image is opened read-only, through a copy-on-write
// overlay nothing writes to, and its tree is read by the engine's own
// reader (ext4sync/fstree).
package imagesource

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Open reads the tree of the ext4 image at path. The tree's Contents read
// the image, which stays open until close is called.
func Open(path string) (t *tree.Tree, close func() error, err error) {
	dev, err := overlay.Open(path, overlay.Options{})
	if err != nil {
		return nil, nil, err
	}
	f, err := fs.Open(dev, fs.Options{})
	if err != nil {
		dev.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	res, err := fstree.Read(f)
	if err != nil {
		dev.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return res.Tree, dev.Close, nil
}
