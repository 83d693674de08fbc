package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// Attacher is what a sync that opens the device itself (ext4sync.SyncImage
// makes its overlay after taking Options.Placement) can call, before
// opening the filesystem, to give the placement the device it will write.
// *Policy implements it.
type Attacher interface {
	Attach(dev blockmap.Changes) error
}

var _ Attacher = (*Policy)(nil)

// Attach makes the policy watch dev's changes. It must be called before
// the first allocation.
func (p *Policy) Attach(dev blockmap.Changes) error {
	if p.ready {
		return fmt.Errorf("placement: attach after the first allocation")
	}
	p.dev, p.seenChanges = dev, -1
	return nil
}
