package generator

import "context"

// Builder produces the new image from the base and the new rootfs. It is
// the ext4sync engine in the product and a fake in tests; the generator
// depends on nothing else of it.
//
// cmd/lvm-um-gen adapts ext4sync.SyncImage to it (engine.go there).
type Builder interface {
	Build(ctx context.Context, req BuildRequest) (*BuildResult, error)
}

// BuildRequest says what to build and how the device will write it.
type BuildRequest struct {
	BasePath   string // the previously shipped image; read only
	RootfsPath string // the new rootfs (a directory, or what the engine's sources accept)
	// ImagePath is where the new image goes. It does not exist yet; the
	// builder creates it with the base's size (the generator deletes it
	// on failure or interruption).
	ImagePath string
	Geometry  Geometry // the cost model the placement should minimise
	// SourceDateEpoch, when set, is the time the builder stamps where the
	// rootfs gives none (inode ctime/atime), for reproducible images.
	SourceDateEpoch *int64
	// Progress, when not nil, may receive the builder's own steps.
	Progress Progress
}

// BuildResult is what the builder reports about the change. Bytes that
// changed are measured by the generator itself by comparing the images,
// so this holds only what the images cannot tell.
type BuildResult struct {
	Files FileCounts
	// Contributors are the paths (or metadata structures) that cost the
	// most write units, most expensive first. The generator shows the top
	// of this list when it refuses a release.
	Contributors []Contributor
}

// FileCounts counts rootfs paths by what happened to them.
type FileCounts struct {
	Added     int64 `json:"added"`
	Changed   int64 `json:"changed"`
	Removed   int64 `json:"removed"`
	Unchanged int64 `json:"unchanged"`
}

// Contributor is one cause of changed write units.
type Contributor struct {
	// Path is the rootfs path, or for metadata a name in angle brackets
	// such as "<inode table>" or "<block bitmap>".
	Path string `json:"path"`
	// Kind is a short word for what changed, chosen by the builder: the
	// ext4sync adapter says "written" (a path of the new rootfs whose
	// changes wrote blocks) or "removed" (a path of the base that is gone).
	Kind string `json:"kind"`
	// Units is how many write units it dirtied that nothing else did
	// before it (the builder decides how to attribute shared units).
	Units int64 `json:"units"`
}
