package ext4sync

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Regular files' content is applied in three passes, so that where every
// block goes depends on the tree and the image only, never on the order
// in which the source delivers content (a tar archive's order is its
// own):
//
//  1. digest: every file's block digests, from the source if it knows
//     them (tree.Digester), else by reading the content once, comparing
//     it on the way with the blocks of the image inode the file keeps
//     (file.Comparer), so placing knows which blocks already hold their
//     bytes without reading them again;
//  2. place: in a fixed order, each file's blocks are placed (holes,
//     blocks kept in place, blocks relocated or allocated) and the old
//     ones freed, with no data written (see place.go);
//  3. fill: the content is read in the source's own order and each block
//     is written where placing put it, if its bytes differ. A file the
//     digest pass found byte for byte in place, and that placing left
//     there, has nothing to write: a source that can skip files
//     (tree.Selector) does not read it again.

// contentFile is one regular file whose content the sync writes.
type contentFile struct {
	in     *plan.Inode
	ino    uint32
	blocks tree.Digests // block digests at the filesystem's block size
	same   file.Same    // blocks the image inode held byte for byte (nil: not compared)
	how    fs.Rewrite
	st     file.ContentStats
	filled bool
}

// inPlace reports whether placing left every block of the file where
// the digest pass found its bytes already: filling it would write nothing.
func (cf *contentFile) inPlace() bool {
	return cf.same != nil && cf.how == fs.InPlace && cf.st.BlocksAllocated == 0 && cf.same.All(cf.blocks)
}

// contents writes every regular file's data; files the source gives no
// content for must be empty (kept ones are truncated when they are not).
func (a *applier) contents() error {
	files := make(map[plan.Ref]*contentFile)
	var order []*contentFile
	for i := range a.p.Inodes {
		if in := &a.p.Inodes[i]; in.Kind == tree.Regular && in.Node.Size > 0 && !a.p.FromImage[in.Node.Path] {
			cf := &contentFile{in: in}
			files[in.Ref] = cf
			order = append(order, cf)
		}
	}
	if len(order) > 0 && a.p.Tree.Contents == nil {
		return fmt.Errorf("ext4sync: source gave no content for %s (%d bytes)", displayPath(order[0].in.Node.Path), order[0].in.Node.Size)
	}
	a.edited = make(map[uint32]bool, len(a.held))
	for ino := range a.held {
		a.edited[ino] = true
	}
	if len(order) > 0 {
		if err := a.digest(files); err != nil {
			return err
		}
		if err := a.place(order); err != nil {
			return err
		}
		if err := a.fill(files); err != nil {
			return err
		}
	}
	a.rec.idle()
	return a.unvisited()
}

// sourceFile resolves a node the source gave content for to its file.
func (a *applier) sourceFile(files map[plan.Ref]*contentFile, n *tree.Node) (*contentFile, plan.Ref, error) {
	ref, ok := a.p.Ref(n.Path)
	in := a.p.Inode(ref)
	if !ok || in == nil || in.Kind != tree.Regular {
		return nil, ref, fmt.Errorf("ext4sync: source gave content for %s, which is not a regular file of the tree", displayPath(n.Path))
	}
	if n.Size != in.Node.Size {
		return nil, ref, fmt.Errorf("ext4sync: source gave %d bytes of content for %s, whose size is %d", n.Size, displayPath(n.Path), in.Node.Size)
	}
	return files[ref], ref, nil
}

// digest takes every file's block digests.
func (a *applier) digest(files map[plan.Ref]*contentFile) error {
	bs := int(a.f.BlockSize())
	if dg, ok := a.p.Tree.Contents.(tree.Digester); ok {
		for _, cf := range files {
			d, err := dg.Digests(cf.in.Node)
			if err != nil {
				return fmt.Errorf("ext4sync: read source contents: %s: %w", displayPath(cf.in.Node.Path), err)
			}
			if err := a.setDigests(cf, d, bs); err != nil {
				return err
			}
		}
		return nil
	}
	if cc, ok := a.p.Tree.Contents.(tree.Concurrent); ok {
		if err := a.digestConcurrent(files, cc, bs); err != nil {
			return err
		}
		return a.allDigested(files)
	}
	var cmp file.Comparer
	err := a.eachFile(files, PhaseDigest, a.p.Tree.Contents.Each, make(map[plan.Ref]bool), func(cf *contentFile, r io.Reader) error {
		old, err := a.comparable(cf)
		if err != nil {
			return err
		}
		d, same, err := cmp.Compare(cf.in.Node, r, old)
		if err != nil {
			return fmt.Errorf("ext4sync: read source contents: %s: %w", displayPath(cf.in.Node.Path), err)
		}
		cf.same = same
		return a.setDigests(cf, d, bs)
	})
	if err != nil {
		return err
	}
	return a.allDigested(files)
}

// allDigested checks that the source gave every file's content.
func (a *applier) allDigested(files map[plan.Ref]*contentFile) error {
	for _, cf := range files {
		if cf.blocks.Unit == 0 {
			return fmt.Errorf("ext4sync: source gave no content for %s (%d bytes)", displayPath(cf.in.Node.Path), cf.in.Node.Size)
		}
	}
	return nil
}

// comparable returns the image inode whose blocks cf's new content is
// laid over in place (its own, or a freed one a rename hands it), or nil
// for a file that gets a new inode.
func (a *applier) comparable(cf *contentFile) (*file.Inode, error) {
	if !a.adopted(cf) {
		return nil, nil
	}
	ino, err := a.ino(cf.in.Ref)
	if err != nil {
		return nil, err
	}
	h, err := a.get(ino, cf.in.Node.Path)
	if err != nil {
		return nil, err
	}
	return h.in, nil
}

// setDigests stores a file's digests at the filesystem's block size.
func (a *applier) setDigests(cf *contentFile, d tree.Digests, bs int) error {
	if want := (cf.in.Node.Size + tree.DigestUnit - 1) / tree.DigestUnit; d.N != want || (d.Unit != 0 && d.Unit != tree.DigestUnit) {
		return fmt.Errorf("ext4sync: source gave %d content digests of %d bytes for %s (%d bytes)", d.N, d.Unit, displayPath(cf.in.Node.Path), cf.in.Node.Size)
	}
	cf.blocks = d.Blocks(bs)
	return nil
}

// fill writes the content, in the source's order, where placing put it.
// Files already in place are not read again when the source can skip
// them; placing them is all they needed.
func (a *applier) fill(files map[plan.Ref]*contentFile) error {
	sel, ok := a.p.Tree.Contents.(tree.Selector)
	if !ok {
		return a.eachFile(files, PhaseContent, a.p.Tree.Contents.Each, a.visited, a.fillOne)
	}
	need := make(map[plan.Ref]*contentFile, len(files))
	var done []*contentFile
	for ref, cf := range files {
		if cf.inPlace() {
			done = append(done, cf)
		} else {
			need[ref] = cf
		}
	}
	want := func(n *tree.Node) bool {
		ref, ok := a.p.Ref(n.Path)
		return !ok || need[ref] != nil || files[ref] == nil
	}
	each := func(fn func(*tree.Node, io.Reader) error) error { return sel.EachOf(want, fn) }
	if err := a.eachFile(need, PhaseContent, each, a.visited, a.fillOne); err != nil {
		return err
	}
	sort.Slice(done, func(i, j int) bool { return done[i].in.Node.Path < done[j].in.Node.Path })
	for _, cf := range done {
		a.visited[cf.in.Ref] = true
		if err := a.keepInPlace(cf); err != nil {
			return err
		}
	}
	return nil
}

// keepInPlace finishes a file whose bytes are all where placing left
// them, as filling it would.
func (a *applier) keepInPlace(cf *contentFile) error {
	path := cf.in.Node.Path
	a.rec.charge(path, cf.ino)
	h, err := a.get(cf.ino, path)
	if err != nil {
		return err
	}
	cf.filled = true
	a.finish(cf.in, h, cf.st)
	return nil
}

// eachFile walks the source's content once (each is its Each or EachOf),
// in its order, calling fn for every file of files with a reader of its
// bytes. It refuses content for
// paths that are not regular files of the tree and content given twice
// (seen records the refs met), skips paths kept from the image, and
// reports progress as phase. fn's errors are returned as they are; the
// source's own are wrapped.
func (a *applier) eachFile(files map[plan.Ref]*contentFile, phase string, each func(func(*tree.Node, io.Reader) error) error, seen map[plan.Ref]bool, fn func(*contentFile, io.Reader) error) error {
	total, done := int64(len(files)), int64(0)
	progress(a.o, phase, 0, total)
	var own error // ours, already in context; the source's get wrapped
	err := each(func(n *tree.Node, r io.Reader) error {
		if own = a.step(phase, done, total); own != nil {
			return own
		}
		var cf *contentFile
		var ref plan.Ref
		if cf, ref, own = a.sourceFile(files, n); own != nil {
			return own
		}
		if seen[ref] {
			own = fmt.Errorf("ext4sync: source gave content for %s (inode %v) twice", displayPath(n.Path), ref)
			return own
		}
		seen[ref] = true
		if cf == nil {
			return nil // kept from the image: Plan.FromImage
		}
		if own = fn(cf, r); own != nil {
			return own
		}
		done++
		progress(a.o, phase, done, total)
		return nil
	})
	switch {
	case own != nil:
		return own
	case err != nil:
		return fmt.Errorf("ext4sync: read source contents: %w", err)
	}
	return nil
}

// fillOne writes one placed file's bytes from r.
func (a *applier) fillOne(cf *contentFile, r io.Reader) error {
	path := cf.in.Node.Path
	a.rec.charge(path, cf.ino)
	h, err := a.get(cf.ino, path)
	if err != nil {
		return err
	}
	st, err := h.in.Fill(cf.in.Node, r, cf.blocks)
	if err != nil {
		return fmt.Errorf("ext4sync: write content of inode %d (%s): %w", cf.ino, displayPath(path), err)
	}
	cf.filled = true
	a.finish(cf.in, h, cf.st, st)
	return nil
}

// finish records what writing a file's content did: a changed inode gets
// the new metadata when saved; an unchanged one not edited before the
// content passes (a.edited: loading it to compare or place it does not
// count) is let go.
func (a *applier) finish(in *plan.Inode, h *open, sts ...file.ContentStats) {
	var st file.ContentStats
	for _, s := range sts {
		st.Changed = st.Changed || s.Changed
		st.BlocksWritten += s.BlocksWritten
	}
	a.stats[in.Ref] += st.BlocksWritten
	switch {
	case st.Changed:
		h.dirty = true
		h.path = in.Node.Path
		if !in.Ref.IsNew() {
			a.changed[in.Ref] = true
		}
	case !a.edited[h.in.Ino()] && !h.dirty:
		delete(a.held, h.in.Ino())
	}
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
		if a.p.FromImage[in.Node.Path] {
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
		if err := a.truncate(in); err != nil {
			return err
		}
	}
	a.rec.idle()
	return nil
}

// truncate empties a kept regular file that the new tree has empty.
func (a *applier) truncate(in *plan.Inode) error {
	ino, _ := in.Ref.Ino()
	path := in.Node.Path
	h, err := a.get(ino, path)
	if err != nil {
		return err
	}
	if h.in.Size() == 0 {
		a.finish(in, h)
		return nil
	}
	a.rec.charge(path, ino)
	st, err := h.in.WriteContent(bytes.NewReader(nil), 0)
	if err != nil {
		return fmt.Errorf("ext4sync: write content of inode %d (%s): %w", ino, displayPath(path), err)
	}
	a.finish(in, h, st)
	return nil
}
