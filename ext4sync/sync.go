// Package ext4sync makes an ext4 image hold exactly a new rootfs tree while
// changing as few bytes as it can. It reads the image's current tree, plans
// the sync (ext4sync/plan) and applies the plan IN PLACE through the inode
// layer (ext4sync/file): unchanged files keep every block where it is and
// cost zero writes, changed files are overwritten block by block where they
// lie, and everything new goes where the fs Placement puts it.
//
// The plan holds every decision as values before anything is written
// (which lost+found the image keeps, which new files adopt a removed
// file's inode, which freed blocks may take new content); the applier
// executes it in its order: removals (which free inodes and blocks for
// reuse), then every inode of the new tree (created or edited), then the
// regular files' content (digested, placed in an order of the sync's own,
// then written in the source's order; see content.go), then directory
// entries, then the inodes are saved and the filesystem flushed. Where new
// blocks and inodes go, and whether a changed file is rewritten in place
// or relocated, is the Placement's to say.
package ext4sync

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// Phases reported through Options.Progress, in order.
const (
	PhaseRead    = "read"    // the image's current tree
	PhaseRemove  = "remove"  // unlinking and freeing
	PhaseInodes  = "inodes"  // creating and editing inodes
	PhaseDigest  = "digest"  // reading content to digest it (sources that cannot say)
	PhasePlace   = "place"   // placing every file's blocks
	PhaseContent = "content" // regular files' data
	PhaseDirs    = "dirs"    // directory entries
	PhaseSave    = "save"    // inodes and filesystem metadata
)

// Options tune a sync.
type Options struct {
	// Placement chooses where new blocks and inodes go; nil leaves the
	// FS's own (fs.DefaultPlacement). Only SyncImage and SyncOverlay use
	// it: Sync takes an FS already opened with its placement.
	Placement fs.Placement
	// SourceDateEpoch, when set, is the atime/ctime/crtime of every inode
	// the sync writes; otherwise those follow the inode's mtime.
	SourceDateEpoch *int64
	// Progress, when set, is called as each phase advances.
	Progress func(phase string, done, total int64)
	// SpillDir is where SyncImage's and SyncOverlay's overlay keeps the
	// changed blocks that do not fit in memory; "" means os.TempDir().
	SpillDir string
}

// Result summarizes a sync.
type Result struct {
	// Paths of the new tree that the image did not have, that it had and
	// now differ (inode, type, metadata or content), of the image that are
	// gone, and that stayed exactly as they were.
	Added, Changed, Removed, Unchanged int
	// Touched lists, sorted by path, every path whose changes wrote
	// blocks, and what each block is; blocks written while removing a
	// path are charged to it. Differs lists the byte ranges of the image
	// that differ from the base (whole blocks of the overlay's, ascending);
	// bytes outside them are the base's. Both are filled only when the
	// sync writes the device itself (SyncImage).
	Touched []written.Path
	Differs []written.Range
}

// Sync makes the filesystem f hold exactly src: it reads f's current tree,
// plans the sync and applies it, then flushes f. On error f may be half
// written and must be discarded. ctx cancels the sync: it is checked
// before every path of every phase, and its error is returned as is (the
// image is then half written and must be discarded; SyncImage writes
// nothing).
func Sync(ctx context.Context, f *fs.FS, src *tree.Tree, o Options) (*Result, error) {
	return syncWith(ctx, f, givenTree(src), o, nil)
}

// SyncImage writes to outPath the base image at basePath synced to src.
// The base is only ever read: the sync runs on a copy-on-write overlay,
// which is written out atomically when everything succeeded.
func SyncImage(ctx context.Context, basePath string, src *tree.Tree, outPath string, o Options) (*Result, error) {
	if same, err := sameFile(basePath, outPath); err != nil {
		return nil, err
	} else if same {
		return nil, fmt.Errorf("ext4sync: output %s is the base image %s, which is never modified", outPath, basePath)
	}
	res, dev, err := SyncOverlay(ctx, basePath, src, o)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	if err := dev.WriteFile(outPath); err != nil {
		return nil, fmt.Errorf("ext4sync: write %s: %w", outPath, err)
	}
	return res, nil
}

// SyncOverlay is SyncImage without an output file: it returns the
// copy-on-write overlay the sync wrote (the base image at basePath synced
// to src, everything else read from the base), for the caller to read,
// stream or write out, and close. Once it is returned nothing writes it,
// so any number of goroutines may read it at once. On error nothing is
// left open.
func SyncOverlay(ctx context.Context, basePath string, src *tree.Tree, o Options) (*Result, *overlay.Device, error) {
	return syncOverlayOf(ctx, basePath, givenTree(src), o)
}

// syncOverlayOf is SyncOverlay of the tree src returns. Every path calls
// src, once the base's own errors are known, and returns its error
// before theirs.
func syncOverlayOf(ctx context.Context, basePath string, src treeFunc, o Options) (*Result, *overlay.Device, error) {
	dev, err := overlay.Open(basePath, overlay.Options{TempDir: o.SpillDir})
	if err != nil {
		if _, serr := src(); serr != nil {
			return nil, nil, serr
		}
		return nil, nil, fmt.Errorf("ext4sync: open base %s: %w", basePath, err)
	}
	res, err := syncDevice(ctx, dev, basePath, src, o)
	if err != nil {
		dev.Close()
		return nil, nil, err
	}
	return res, dev, nil
}

// syncDevice syncs the filesystem on dev, an overlay of the base image at
// basePath, to src.
func syncDevice(ctx context.Context, dev *overlay.Device, basePath string, src treeFunc, o Options) (*Result, error) {
	if at, ok := o.Placement.(DeviceAttacher); ok {
		if err := at.Attach(dev); err != nil {
			if _, serr := src(); serr != nil {
				return nil, serr
			}
			return nil, fmt.Errorf("ext4sync: placement: %w", err)
		}
	}
	rec := newRecorder(dev)
	f, err := fs.Open(rec, fs.Options{Placement: o.Placement})
	if err != nil {
		if _, serr := src(); serr != nil {
			return nil, serr
		}
		return nil, fmt.Errorf("ext4sync: base %s: %w", basePath, err)
	}
	rec.blockSize = int64(f.BlockSize())
	res, err := syncWith(ctx, f, src, o, rec)
	if err != nil {
		return nil, err
	}
	setKinds(f, res.Touched)
	res.Differs = []written.Range{} // known, even when empty
	dev.Changed(func(off, n int64) { res.Differs = append(res.Differs, written.Range{Off: off, Len: n}) })
	return res, nil
}

// DeviceAttacher is a Placement that watches the device the sync writes
// (blockmap/placement's cost-aware policy does: a unit already changed is
// free to write into). SyncImage opens that device itself, an overlay of
// the base, and hands it to Attach before opening the filesystem. The
// overlay also counts its changes (ChangedCount() int).
type DeviceAttacher interface {
	Attach(dev fs.ChangedRanges) error
}

// sameFile reports whether out names the existing file base.
func sameFile(base, out string) (bool, error) {
	bi, err := os.Stat(base)
	if err != nil {
		return false, fmt.Errorf("ext4sync: base image: %w", err)
	}
	oi, err := os.Stat(out)
	if err != nil {
		return false, nil // no output yet (or unreachable: WriteFile says why)
	}
	return os.SameFile(bi, oi), nil
}

// syncWith is Sync, attributing writes to paths when rec is set.
func syncWith(ctx context.Context, f *fs.FS, srcFn treeFunc, o Options, rec *recorder) (*Result, error) {
	if err := ctx.Err(); err != nil {
		if _, serr := srcFn(); serr != nil {
			return nil, serr
		}
		return nil, err
	}
	var oldState plan.Old
	var err error
	if f != nil {
		oldState, err = readImage(f)
	}
	src, serr := srcFn()
	switch {
	case serr != nil:
		return nil, serr
	case f == nil || src == nil:
		return nil, errors.New("ext4sync: nil filesystem or tree")
	case err != nil:
		return nil, fmt.Errorf("ext4sync: read image tree: %w", err)
	}
	// Reported once the tree is read: the source may report its own
	// reading until then, from another goroutine.
	progress(o, PhaseRead, 0, 1)
	progress(o, PhaseRead, 1, 1)
	want := fitTimes(f, src)
	if err := checkFit(f, want); err != nil {
		return nil, fmt.Errorf("ext4sync: %w", err)
	}
	p, err := plan.Make(oldState, want)
	if err != nil {
		return nil, fmt.Errorf("ext4sync: plan: %w", err)
	}
	a := newApplier(ctx, f, p, oldState, o, rec)
	if err := a.run(); err != nil {
		return nil, err
	}
	return a.result(), nil
}

func progress(o Options, phase string, done, total int64) {
	if o.Progress != nil {
		o.Progress(phase, done, total)
	}
}

func fileOptions(o Options) file.Options {
	return file.Options{SourceDateEpoch: o.SourceDateEpoch}
}
