package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// Attach makes the policy watch dev's changes: it implements
// ext4sync.DeviceAttacher, which a sync that opens the device itself
// (ext4sync.SyncImage makes its overlay after taking the placement) calls
// before opening the filesystem. It must be called before the first
// allocation.
func (p *Policy) Attach(dev fs.ChangedRanges) error {
	if p.ready {
		return fmt.Errorf("placement: attach after the first allocation")
	}
	p.dev, p.seenChanges = dev, -1
	return nil
}
