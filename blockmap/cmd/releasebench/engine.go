package main

import (
	"context"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/measure"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
)

// epoch is SOURCE_DATE_EPOCH for every sync, so images are reproducible.
var epoch int64 = 1700000000

// lvmSync writes to out the base image synced to the tree in dir, the way
// lvm-um-gen builds a release image, and returns what the sync wrote.
// With costModel nil the engine's default placement is used; otherwise
// the cost-aware placement (blockmap/placement) for that model, which the
// sync attaches to the overlay it writes through.
func lvmSync(base, dir, out string, costModel *blockmap.Model) (measure.Wrote, error) {
	src, err := dirsource.Read(dir, dirsource.Options{})
	if err != nil {
		return measure.Wrote{}, fmt.Errorf("releasebench: read tree %s: %w", dir, err)
	}
	opts := ext4sync.Options{SourceDateEpoch: &epoch}
	if costModel != nil {
		opts.Placement = placement.New(*costModel, nil)
	}
	res, err := ext4sync.SyncImage(context.Background(), base, src, out, opts)
	if err != nil {
		return measure.Wrote{}, fmt.Errorf("releasebench: sync %s: %w", dir, err)
	}
	return measure.Wrote{Differs: res.Differs, Touched: res.Touched}, nil
}
