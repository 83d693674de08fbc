package ext4sync

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// digestConcurrent is the digest pass of a source that reads several files
// at once (tree.Concurrent), on every core: each file is read, digested
// and compared with the image inode it keeps by one worker, and what that
// finds is the file's own (contentFile's blocks and same), so the result
// is the sequential pass's whatever the timing. The image inodes the
// workers compare with are loaded first, in path order, because loading
// edits the applier's held inodes; the workers only read the image (no
// write happens until the layout).
func (a *applier) digestConcurrent(files map[plan.Ref]*contentFile, cc tree.Concurrent, bs int) error {
	byPath := make([]*contentFile, 0, len(files))
	for _, cf := range files {
		byPath = append(byPath, cf)
	}
	sort.Slice(byPath, func(i, j int) bool { return byPath[i].in.Node.Path < byPath[j].in.Node.Path })
	olds := make(map[plan.Ref]*file.Inode, len(files))
	release := a.f.HoldInodeBlocks() // path order is mostly table order
	for _, cf := range byPath {
		old, err := a.comparable(cf)
		if err != nil {
			release()
			return err
		}
		olds[cf.in.Ref] = old
	}
	release()
	workers := runtime.GOMAXPROCS(0)
	comparers := make(chan *file.Comparer, workers)
	for range workers {
		comparers <- new(file.Comparer)
	}
	var mu sync.Mutex // guards seen, done and the progress calls
	seen := make(map[plan.Ref]bool)
	total, done := int64(len(files)), int64(0)
	progress(a.o, PhaseDigest, 0, total)
	err := cc.EachConcurrent(workers, func(n *tree.Node, r io.Reader) error {
		mu.Lock()
		cf, err := a.digestStart(files, seen, n, done, total)
		mu.Unlock()
		if err != nil || cf == nil {
			return err
		}
		cmp := <-comparers
		d, same, err := cmp.Compare(cf.in.Node, r, olds[cf.in.Ref])
		comparers <- cmp
		if err != nil {
			return ownError{fmt.Errorf("ext4sync: read source contents: %s: %w", displayPath(cf.in.Node.Path), err)}
		}
		cf.same = same
		if err := a.setDigests(cf, d, bs); err != nil {
			return ownError{err}
		}
		mu.Lock()
		done++
		progress(a.o, PhaseDigest, done, total)
		mu.Unlock()
		return nil
	})
	var own ownError
	switch {
	case errors.As(err, &own):
		return own.error
	case err != nil:
		return fmt.Errorf("ext4sync: read source contents: %w", err)
	}
	return nil
}

// digestStart is what eachFile checks before a file's content is read,
// for digestConcurrent: the context, the path and the file's first
// visit. It returns nil for a path kept from the image.
func (a *applier) digestStart(files map[plan.Ref]*contentFile, seen map[plan.Ref]bool, n *tree.Node, done, total int64) (*contentFile, error) {
	if err := a.step(PhaseDigest, done, total); err != nil {
		return nil, ownError{err}
	}
	cf, ref, err := a.sourceFile(files, n)
	if err != nil {
		return nil, ownError{err}
	}
	if seen[ref] {
		return nil, ownError{fmt.Errorf("ext4sync: source gave content for %s (inode %v) twice", displayPath(n.Path), ref)}
	}
	seen[ref] = true
	return cf, nil
}

// ownError marks an error of the sync's own in a source's callback, to be
// returned as it is rather than wrapped as the source's.
type ownError struct{ error }

func (e ownError) Unwrap() error { return e.error }
