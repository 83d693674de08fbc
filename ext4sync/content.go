package ext4sync

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// contents writes every regular file's data in the source's own order (a
// streaming source cannot change it). A kept file is compared block by
// block and only differing blocks are written; a new one is written whole.
// Files the source gives no content for must be empty: kept ones are
// truncated when they are not.
func (a *applier) contents() error {
	var total, done int64
	for i := range a.p.Inodes {
		if in := &a.p.Inodes[i]; in.Kind == tree.Regular && in.Node.Size > 0 && !a.skipContent[in.Node.Path] {
			total++
		}
	}
	progress(a.o, PhaseContent, 0, total)
	if a.want.Contents != nil && total > 0 {
		var own error // ours, already in context; the source's get wrapped
		err := a.want.Contents.Each(func(n *tree.Node, r io.Reader) error {
			if own = a.step(PhaseContent, done, total); own != nil {
				return own
			}
			if own = a.content(n, r); own != nil {
				return own
			}
			done++
			progress(a.o, PhaseContent, done, total)
			return nil
		})
		switch {
		case own != nil:
			return own
		case err != nil:
			return fmt.Errorf("ext4sync: read source contents: %w", err)
		}
	}
	a.rec.idle()
	return a.unvisited()
}

// content writes one file's data from r.
func (a *applier) content(n *tree.Node, r io.Reader) error {
	ref, ok := a.p.Ref(n.Path)
	in := a.p.Inode(ref)
	if !ok || in == nil || in.Kind != tree.Regular {
		return fmt.Errorf("ext4sync: source gave content for %s, which is not a regular file of the tree", displayPath(n.Path))
	}
	if a.visited[ref] {
		return fmt.Errorf("ext4sync: source gave content for %s (inode %v) twice", displayPath(n.Path), ref)
	}
	a.visited[ref] = true
	if a.skipContent[in.Node.Path] {
		return nil
	}
	return a.write(in, r, n.Size)
}

// write makes the inode of in hold the size bytes of r.
func (a *applier) write(in *plan.Inode, r io.Reader, size int64) error {
	ino, err := a.ino(in.Ref)
	if err != nil {
		return err
	}
	path := in.Node.Path
	a.rec.charge(path, ino)
	_, wasHeld := a.held[ino]
	h, err := a.get(ino, path)
	if err != nil {
		return err
	}
	st, err := h.in.WriteContent(r, size)
	if err != nil {
		return fmt.Errorf("ext4sync: write content of inode %d (%s): %w", ino, displayPath(path), err)
	}
	a.stats[in.Ref] += st.BlocksWritten
	switch {
	case st.Changed:
		h.dirty = true
		h.path = path
		if !in.Ref.IsNew() {
			a.changed[in.Ref] = true
		}
	case !wasHeld:
		// Unchanged and not otherwise edited: nothing to save.
		delete(a.held, ino)
	}
	return nil
}

// unvisited handles the regular files the source gave no content for:
// empty ones (a kept file is truncated if it is not empty) and the paths
// kept from the image. Anything else is a source that lost a file.
func (a *applier) unvisited() error {
	for i := range a.p.Inodes {
		in := &a.p.Inodes[i]
		if in.Kind != tree.Regular || a.visited[in.Ref] {
			continue
		}
		if a.skipContent[in.Node.Path] {
			if in.Ref.IsNew() {
				return fmt.Errorf("ext4sync: %s is kept from the image but would need a new inode", displayPath(in.Node.Path))
			}
			continue
		}
		if in.Node.Size > 0 {
			return fmt.Errorf("ext4sync: source gave no content for %s (%d bytes)", displayPath(in.Node.Path), in.Node.Size)
		}
		if in.Ref.IsNew() {
			continue // created empty
		}
		ino, _ := in.Ref.Ino()
		h, err := a.get(ino, in.Node.Path)
		if err != nil {
			return err
		}
		if h.in.Size() == 0 {
			if !h.dirty {
				delete(a.held, ino)
			}
			continue
		}
		if err := a.write(in, bytes.NewReader(nil), 0); err != nil {
			return err
		}
	}
	a.rec.idle()
	return nil
}
