package ext4sync

import (
	"context"
	"sync"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// treeFunc returns the tree a sync writes. The sync calls it once the
// base's tree is read, or the base found unusable, on every path.
type treeFunc func() (*tree.Tree, error)

// givenTree is the treeFunc of a tree already read.
func givenTree(t *tree.Tree) treeFunc {
	return func() (*tree.Tree, error) { return t, nil }
}

// SyncOverlayOpening is SyncOverlay of the tree open reads, which runs in
// a goroutine of its own while the base is opened, checked and its tree
// read: reading a rootfs and reading the base take the longer of the two
// on two cores, not their sum (issue 11). open's error is returned as it
// is, before any error of the base's, as if open had run first; the sync
// reports its PhaseRead only once open has returned, so open may report
// progress of its own until then. SyncOverlayOpening returns only after
// open has.
func SyncOverlayOpening(ctx context.Context, basePath string, open func() (*tree.Tree, error), o Options) (*Result, *overlay.Device, error) {
	type opened struct {
		t   *tree.Tree
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		t, err := open()
		ch <- opened{t, err}
	}()
	var once sync.Once
	var got opened
	wait := func() (*tree.Tree, error) {
		once.Do(func() { got = <-ch })
		return got.t, got.err
	}
	defer wait()
	return syncOverlayOf(ctx, basePath, wait, o)
}
