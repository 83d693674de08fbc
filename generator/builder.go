package generator

import (
	"context"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// Builder produces the new image from the base and the new rootfs. It is
// the ext4sync engine in the product and a fake in tests; the generator
// depends on nothing else of it.
//
// cmd/lvm-um-gen adapts ext4sync.SyncOverlay to it (engine.go there).
type Builder interface {
	Build(ctx context.Context, req BuildRequest) (*BuildResult, error)
}

// BuildRequest says what to build and how the device will write it.
type BuildRequest struct {
	BasePath   string // the previously shipped image; read only
	RootfsPath string // the new rootfs (a directory, or what the engine's sources accept)
	// WorkDir is a private directory the builder may keep temporary files
	// in (the engine's overlay spills changed blocks there); the generator
	// removes it when it is done with the image.
	WorkDir  string
	Geometry Geometry // the cost model the placement should minimise
	// SourceDateEpoch, when set, is the time the builder stamps where the
	// rootfs gives none (inode ctime/atime), for reproducible images.
	SourceDateEpoch *int64
	// Progress, when not nil, may receive the builder's own steps.
	Progress Progress
}

// BuildResult is what the builder reports about the change: what it
// knows of what it wrote, which the generator measures from instead of
// finding it again.
type BuildResult struct {
	// Image is the new image, the base's size. The generator reads it
	// (from several goroutines at once), writes it out only when a file
	// is needed, and closes it.
	Image Image
	Files FileCounts
	// Differs lists the byte ranges of the new image that may differ from
	// the base (the engine's overlay knows them); the generator reads the
	// new image only there and takes every other byte to be the base's.
	// Nil means the builder does not know: the generator compares the
	// whole images. A build that changed nothing returns an empty, non-nil
	// list.
	Differs []written.Range
	// Touched charges the blocks the build changed to the paths whose
	// changes wrote them, with what each block is (the engine's sync
	// result). The generator ranks them by the write units they
	// dirtied; blocks no path is charged with are ranked by what they
	// are (inode table, bitmaps, descriptors, superblock).
	Touched []written.Path
}

// FileCounts counts rootfs paths by what happened to them.
type FileCounts struct {
	Added     int64 `json:"added"`
	Changed   int64 `json:"changed"`
	Removed   int64 `json:"removed"`
	Unchanged int64 `json:"unchanged"`
}
