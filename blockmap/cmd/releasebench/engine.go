package main

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
)

// epoch is SOURCE_DATE_EPOCH for every sync, so images are reproducible.
var epoch int64 = 1700000000

// lvmSync writes to out the base image synced to the tree in dir, the way
// lvm-um-gen builds a release image. With costModel nil the engine's
// default placement is used; otherwise the cost-aware placement
// (blockmap/placement) for that model, watching the overlay's changes and
// the base's metadata layout.
func lvmSync(base, dir, out string, costModel *blockmap.Model) error {
	src, err := dirsource.Read(dir, dirsource.Options{})
	if err != nil {
		return fmt.Errorf("releasebench: read tree %s: %w", dir, err)
	}
	dev, err := overlay.Open(base, overlay.Options{})
	if err != nil {
		return fmt.Errorf("releasebench: open base %s: %w", base, err)
	}
	defer dev.Close()
	var opts fs.Options
	if costModel != nil {
		layout, err := attrib.ReadLayout(dev.Base())
		if err != nil {
			return fmt.Errorf("releasebench: layout of %s: %w", base, err)
		}
		opts.Placement = placement.New(*costModel, dev, placement.Options{Layout: layout})
	}
	f, err := fs.Open(dev, opts)
	if err != nil {
		return fmt.Errorf("releasebench: open fs %s: %w", base, err)
	}
	if _, err := ext4sync.Sync(f, src, ext4sync.Options{SourceDateEpoch: &epoch}); err != nil {
		return fmt.Errorf("releasebench: sync %s: %w", dir, err)
	}
	if err := dev.WriteFile(out); err != nil {
		return fmt.Errorf("releasebench: write %s: %w", out, err)
	}
	return nil
}
