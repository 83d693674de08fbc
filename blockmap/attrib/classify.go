package attrib

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// kindCategory is the category of what a path wrote.
var kindCategory = [...]Category{
	written.Entries:       Directory,
	written.Data:          FileData,
	written.DirectoryData: Directory,
	written.ExtentTree:    ExtentTree,
	written.XattrBlock:    XattrBlock,
}

// Options tune Classify.
type Options struct {
	// MaxOwners bounds the owners each UnitInfo lists (0: 3).
	MaxOwners int
	// Observe, if set, is called with every changed block and its
	// category, in ascending block order (blockmap/bound takes the file
	// data blocks from it).
	Observe func(blk uint64, c Category)
}

const defaultMaxOwners = 3

// UnitInfo is one changed write unit: why it changed and who changed it.
type UnitInfo struct {
	Unit int64 `json:"unit"`
	// Reason is the category with the most changed blocks in the unit
	// (ties: the earlier in Categories()).
	Reason Category `json:"reason"`
	// Blocks is the number of changed blocks in the unit.
	Blocks int `json:"blocks"`
	// Owners are the unit's top contributors, most blocks first (ties by
	// name): paths, or a category name for metadata no path was charged.
	Owners []string `json:"owners"`
}

// CategoryRow is how much of the change one category is.
type CategoryRow struct {
	Category Category `json:"category"`
	Blocks   int64    `json:"blocks"`
	// Units counts the units holding a changed block of this category
	// (a unit with several categories counts for each).
	Units int64 `json:"units"`
}

// Contributor is one path, or one metadata category no path was charged
// for, and the units it dirtied.
type Contributor struct {
	Name string `json:"name"`
	// Kind is "path" or "metadata".
	Kind string `json:"kind"`
	Ino  uint32 `json:"ino,omitempty"`
	// Blocks is the changed blocks charged to it.
	Blocks int64 `json:"blocks"`
	// Units is the units it holds a changed block in, each counted in full
	// even when other contributors share it; SoleUnits is those it alone
	// changed (what not changing it would save for sure).
	Units     int64 `json:"units"`
	SoleUnits int64 `json:"sole_units"`
	// Share is Units with every shared unit split among its contributors
	// in proportion to the changed blocks each has in it; the shares add
	// up to the units changed.
	Share float64 `json:"unit_share"`
}

// Contributor kinds.
const (
	KindPath     = "path"
	KindMetadata = "metadata"
)

// Report is the attribution of one image's changes.
type Report struct {
	Result        blockmap.Result `json:"result"`
	BlockSize     uint32          `json:"block_size"`
	BlocksChanged int64           `json:"blocks_changed"`
	// SharedUnits is the number of changed units with more than one
	// contributor.
	SharedUnits  int64         `json:"shared_units"`
	Categories   []CategoryRow `json:"categories"`
	Contributors []Contributor `json:"contributors"`
	Units        []UnitInfo    `json:"units"`
}

// Classify attributes the changed byte ranges of an image (whole blocks
// are taken) with layout l to categories and owners, and ranks the owners
// by the units of m they dirtied. touched charges blocks to paths (a block
// may be charged to several; the first path's kind of it counts);
// uncharged non-metadata blocks are Other.
func Classify(l *disk.Layout, m blockmap.Model, changed []blockmap.Range, touched []written.Path, o Options) (*Report, error) {
	if l == nil || l.BlockSize == 0 {
		return nil, fmt.Errorf("attrib: no layout")
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("attrib: %w", err)
	}
	res, _, err := m.EstimateRanges(changed)
	if err != nil {
		return nil, fmt.Errorf("attrib: %w", err)
	}
	c := newClassifier(l, m, touched, o)
	if err := c.blocks(blockmap.Normalize(changed)); err != nil {
		return nil, err
	}
	r := c.report()
	r.Result = res
	return r, nil
}
