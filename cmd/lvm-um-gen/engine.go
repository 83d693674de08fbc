package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/detect"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/tarsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

// newEngineBuilder returns the Builder the CLI uses: the ext4sync engine.
func newEngineBuilder() generator.Builder { return engineBuilder{} }

// engineBuilder adapts ext4sync.SyncOverlayOpening to generator.Builder:
// it reads the rootfs (directory, tar or ext4 image) while the engine
// reads the base, syncs it onto an overlay of
// the base (spilling into the request's work directory), then hands the
// generator the overlay as the new image, with the ranges it changed and
// the engine's per-path block lists: no image file is written unless the
// generator needs one.
//
// The engine gets the command's context, so Ctrl-C stops the sync between
// paths, and blockmap/placement's cost-aware policy for the request's
// geometry: new blocks and inodes go where they add the least predicted
// COW, and each changed file is overwritten in place or relocated,
// whichever costs fewer units (SyncOverlay attaches the policy to the
// overlay it opens, so it sees every unit already changed).
type engineBuilder struct{}

func (engineBuilder) Build(ctx context.Context, req generator.BuildRequest) (*generator.BuildResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The rootfs is read while the sync reads the base (the engine
	// returns the rootfs's error first, as if it had been read first).
	var rootfs *detect.Source
	defer func() {
		if rootfs != nil {
			rootfs.Close()
		}
	}()
	open := func() (*tree.Tree, error) {
		src, err := openRootfs(req.RootfsPath, req.BasePath, req.Progress)
		if err != nil {
			return nil, err
		}
		rootfs = src
		return src.Tree, nil
	}
	opts := ext4sync.Options{SourceDateEpoch: req.SourceDateEpoch, Placement: policyFor(req), SpillDir: req.WorkDir}
	if req.Progress != nil {
		opts.Progress = phaseProgress(req.Progress)
	}
	res, dev, err := ext4sync.SyncOverlayOpening(ctx, req.BasePath, open, opts)
	if req.Progress != nil {
		req.Progress.Finish()
	}
	if err != nil {
		return nil, classifyEngineError(req, err)
	}
	if err := ctx.Err(); err != nil {
		dev.Close()
		return nil, err
	}
	return &generator.BuildResult{Image: dev, Files: generator.FileCounts{
		Added: int64(res.Added), Changed: int64(res.Changed), Removed: int64(res.Removed), Unchanged: int64(res.Unchanged),
	}, Differs: res.Differs, Touched: res.Touched}, nil
}

// openRootfs opens the new rootfs, whatever it is: a directory, a tar
// archive (plain or compressed) read without extracting it, or an ext4
// image such as the one Yocto's do_image just built; the kind is told from
// the content, not the name. A tar may hold at most as many content bytes
// as the base image is large (a decompression bomb stops there). The
// caller closes the source once the sync is done with its contents.
func openRootfs(path, basePath string, p generator.Progress) (*detect.Source, error) {
	var limit int64
	if fi, err := os.Stat(basePath); err == nil {
		limit = fi.Size()
	}
	opts := detect.Options{Tar: tarsource.Options{MaxBytes: limit}}
	if p != nil {
		opts.Progress = readProgress(p)
		defer p.Finish()
	}
	src, err := detect.Open(path, opts)
	if err != nil {
		return nil, &generator.InputError{Input: "--rootfs " + path, Err: err}
	}
	return src, nil
}

// classifyEngineError turns the engine's error classes into input errors
// (exit 2) naming the input at fault: a base the engine cannot use, or a
// rootfs that does not fit in the image.
func classifyEngineError(req generator.BuildRequest, err error) error {
	switch {
	case errors.Is(err, fs.ErrUnsupported), errors.Is(err, fs.ErrCorrupt), errors.Is(err, fs.ErrNotClean):
		return &generator.InputError{Input: "--base " + req.BasePath, Err: err}
	case errors.Is(err, tarsource.ErrInvalid), detect.IsInvalid(err) && !errors.Is(err, fs.ErrNoSpace):
		return &generator.InputError{Input: "--rootfs " + req.RootfsPath, Err: err}
	case errors.Is(err, fs.ErrNoSpace), errors.Is(err, fs.ErrNoInodes):
		return &generator.InputError{Input: "--rootfs " + req.RootfsPath, Err: fmt.Errorf("does not fit in the base image's filesystem: %w", err)}
	case errors.Is(err, plan.ErrTree):
		return &generator.InputError{Input: "--rootfs " + req.RootfsPath, Err: err}
	case errors.Is(err, ext4sync.ErrUnfit):
		// A feature the base lacks or a limit of its block size: the
		// message names the path and the feature.
		var u *ext4sync.UnfitError
		if errors.As(err, &u) {
			err = u
		}
		return &generator.InputError{Input: "--rootfs " + req.RootfsPath, Err: err}
	case errors.Is(err, xattr.ErrNoSpace), errors.Is(err, xattr.ErrName), errors.Is(err, xattr.ErrACL):
		// The base passed the consistency check before the sync read it,
		// so an xattr that cannot be laid out or encoded is the rootfs's.
		return &generator.InputError{Input: "--rootfs " + req.RootfsPath, Err: fmt.Errorf("an extended attribute ext4 cannot store: %w", err)}
	}
	return err
}

// The bars of reading the rootfs's tree: paths of a directory or an
// image, or bytes of a tar archive.
const (
	readingPathsLabel = "reading rootfs: paths"
	readingBytesLabel = "reading rootfs"
)

// readProgress turns the source's (done, total) calls into one bar,
// started at the first call with its total (-1: paths, counted with no
// total).
func readProgress(p generator.Progress) func(done, total int64) {
	started, last := false, int64(0)
	return func(done, total int64) {
		if !started {
			started = true
			label := readingBytesLabel
			if total < 0 {
				label = readingPathsLabel
			}
			p.Start(label, total)
		}
		if done > last {
			p.Add(done - last)
			last = done
		}
	}
}

// syncPhasePrefix marks the engine's phases, whose totals count items,
// not bytes.
const syncPhasePrefix = "sync: "

// phaseProgress turns the engine's (phase, done, total) calls into one
// bar per phase.
func phaseProgress(p generator.Progress) func(phase string, done, total int64) {
	cur, last := "", int64(0)
	return func(phase string, done, total int64) {
		if phase != cur {
			cur, last = phase, 0
			p.Start(syncPhasePrefix+phase, total)
		}
		if done > last {
			p.Add(done - last)
			last = done
		}
	}
}

// policyFor is the cost-aware placement for the request's geometry over
// the base image (the output has the base's size).
func policyFor(req generator.BuildRequest) *placement.Policy {
	var size int64
	if fi, err := os.Stat(req.BasePath); err == nil {
		size = fi.Size()
	}
	return placement.New(req.Geometry.Model(size), nil)
}
