// Package fstree reads the tree an open ext4 filesystem holds as a
// tree.Tree: every path reachable from the root directory with its
// metadata, xattrs (VFS encoding) and, for regular files, a way to read its
// content. It is the engine's view of the image it syncs (plan.Old's
// shape), and what source/imagesource hands over for an "ext4 image"
// rootfs.
//
// Special inodes (journal, resize, orphan file, quota) are never linked from
// directories and so never appear; lost+found is an ordinary directory. A
// directory reached twice, an entry naming a reserved inode, or a directory
// entry whose type disagrees with its inode is corruption.
package fstree

import (
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Result is an image's tree and the inode number of every path in it (hard
// links share a number).
type Result struct {
	Tree  *tree.Tree
	Inode map[string]uint32
}

// walker is the state of one Read.
type walker struct {
	f      *fs.FS
	sb     disk.Superblock
	inodes map[uint32]*file.Inode // all, or with noContents directories not yet listed
	kinds  map[uint32]inodeInfo
	nodes  map[uint32]*tree.Node // metadata per inode, without Path
	paths  []string
	ino    map[string]uint32
	seen   map[uint32]int // non-directory inodes: paths naming them
	dirs   int
	// noContents: the tree is for its metadata only, and the inodes are
	// dropped once read rather than kept for Contents.
	noContents bool
}

// Read walks the filesystem from the root directory and returns its tree.
// Contents read regular files through the FS, which must stay open and
// unchanged while the tree is used.
func Read(f *fs.FS) (*Result, error) {
	return read(f, false)
}

// ReadMetadata is Read for a tree whose Contents are never used (the sync's
// view of the image it edits, which reads kept files through the inode
// layer itself): it keeps no inode once its metadata is read, so memory
// does not grow with the inodes' extent trees. Contents is nil.
func ReadMetadata(f *fs.FS) (*Result, error) {
	return read(f, true)
}

func read(f *fs.FS, noContents bool) (*Result, error) {
	w := &walker{
		noContents: noContents,
		f:          f,
		sb:         f.Superblock(),
		inodes:     make(map[uint32]*file.Inode),
		kinds:      make(map[uint32]inodeInfo),
		nodes:      make(map[uint32]*tree.Node),
		ino:        make(map[string]uint32),
		seen:       make(map[uint32]int),
	}
	release := f.HoldInodeBlocks() // prefetch loads in table order
	err := w.walk()
	release()
	if err != nil {
		return nil, err
	}
	return w.result(), nil
}

// inodeInfo is what the walk needs of an inode once it is loaded.
type inodeInfo struct {
	kind  tree.Kind
	links uint32
}

// dirToDo is a directory waiting to be listed.
type dirToDo struct {
	path string
	ino  uint32
}

// walk lists every directory once, depth first, bounded by the inode count.
func (w *walker) walk() error {
	if _, err := w.load(disk.RootIno, ""); err != nil {
		return err
	}
	w.add("", disk.RootIno)
	stack := []dirToDo{{"", disk.RootIno}}
	visited := map[uint32]bool{disk.RootIno: true}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		w.dirs++
		if w.dirs > int(w.f.InodesCount()) {
			return fmt.Errorf("ext4: directory walk exceeds the inode count %d: %w", w.f.InodesCount(), fs.ErrCorrupt)
		}
		entries, err := w.list(d)
		if err != nil {
			return err
		}
		w.prefetch(entries)
		for _, e := range entries {
			p := join(d.path, e.Name)
			kind, err := w.load(e.Inode, p)
			if err != nil {
				return err
			}
			if err := w.checkEntry(d, e, kind); err != nil {
				return err
			}
			if kind == tree.Dir {
				if visited[e.Inode] {
					return fmt.Errorf("ext4: directory inode %d reached again at %q: %w", e.Inode, p, fs.ErrCorrupt)
				}
				visited[e.Inode] = true
				stack = append(stack, dirToDo{p, e.Inode})
			} else {
				w.seen[e.Inode]++
			}
			w.add(p, e.Inode)
		}
	}
	return nil
}

// prefetch loads a directory's inodes in inode order, which is their
// order in the inode table: a listing is in hash order, and the inodes
// of a large directory are read then from the blocks the FS holds
// (fs.ReadInode) instead of one device read each. It only fills the
// walker's per-inode state: the walk then takes the entries in listing
// order, and an inode that failed to load here fails there again, so
// what the walk checks and which error it returns do not change.
func (w *walker) prefetch(entries []dir.Entry) {
	if len(entries) < 2 {
		return
	}
	inos := make([]uint32, 0, len(entries))
	for _, e := range entries {
		if _, ok := w.kinds[e.Inode]; !ok && e.Inode != 0 && e.Inode <= w.f.InodesCount() {
			inos = append(inos, e.Inode)
		}
	}
	slices.Sort(inos)
	for _, ino := range inos {
		w.load(ino, "") //nolint:errcheck // the walk loads it again and reports
	}
}

// list returns a directory's entries.
func (w *walker) list(d dirToDo) ([]dir.Entry, error) {
	in := w.inodes[d.ino]
	if w.noContents {
		delete(w.inodes, d.ino)
	}
	h, err := in.Dir()
	if err != nil {
		return nil, fmt.Errorf("ext4: directory %q: %w", display(d.path), err)
	}
	es, err := h.Entries()
	if err != nil {
		return nil, fmt.Errorf("ext4: directory %q (inode %d): %w", display(d.path), d.ino, err)
	}
	return es, nil
}

// checkEntry refuses entries that name reserved or special inodes, or whose
// type disagrees with the inode.
func (w *walker) checkEntry(d dirToDo, e dir.Entry, kind tree.Kind) error {
	first := w.sb.FirstIno
	if first == 0 {
		first = disk.GoodOldFirstIno
	}
	if (e.Inode < first && e.Inode != disk.RootIno) || (w.sb.OrphanFileInum != 0 && e.Inode == w.sb.OrphanFileInum) {
		return fmt.Errorf("ext4: directory %q (inode %d): entry %q names special inode %d: %w",
			display(d.path), d.ino, e.Name, e.Inode, fs.ErrCorrupt)
	}
	if e.Name == "" || e.Name == "." || e.Name == ".." {
		return fmt.Errorf("ext4: directory %q (inode %d): invalid entry name %q: %w", display(d.path), d.ino, e.Name, fs.ErrCorrupt)
	}
	for i := 0; i < len(e.Name); i++ {
		if e.Name[i] == '/' || e.Name[i] == 0 {
			return fmt.Errorf("ext4: directory %q (inode %d): invalid entry name %q: %w", display(d.path), d.ino, e.Name, fs.ErrCorrupt)
		}
	}
	if e.Type != dir.TypeUnknown && e.Type != file.DirType(kind) {
		return fmt.Errorf("ext4: directory %q (inode %d): entry %q has type %d but inode %d is a %s: %w",
			display(d.path), d.ino, e.Name, e.Type, e.Inode, kind, fs.ErrCorrupt)
	}
	return nil
}

// load reads inode ino once and its metadata, and returns its kind.
func (w *walker) load(ino uint32, path string) (tree.Kind, error) {
	if info, ok := w.kinds[ino]; ok {
		return info.kind, nil
	}
	in, err := file.Load(w.f, ino)
	if err != nil {
		return 0, fmt.Errorf("ext4: %q: %w", display(path), err)
	}
	n, err := in.Node()
	if err != nil {
		return 0, fmt.Errorf("ext4: %q: %w", display(path), err)
	}
	if !w.noContents || in.Kind() == tree.Dir {
		w.inodes[ino] = in
	}
	w.kinds[ino] = inodeInfo{kind: in.Kind(), links: uint32(in.Links())}
	w.nodes[ino] = n
	return in.Kind(), nil
}

func (w *walker) add(path string, ino uint32) {
	w.paths = append(w.paths, path)
	w.ino[path] = ino
}

// result builds the tree: one node per path, hard links sharing LinkID.
func (w *walker) result() *Result {
	sort.Strings(w.paths)
	nodes := make([]*tree.Node, 0, len(w.paths))
	c := &contents{}
	done := make(map[uint32]bool)
	for _, p := range w.paths {
		ino := w.ino[p]
		n := *w.nodes[ino]
		n.Path = p
		n.Xattrs = append([]tree.Xattr(nil), n.Xattrs...)
		if n.Kind != tree.Dir && (w.seen[ino] > 1 || w.kinds[ino].links > 1) {
			n.LinkID = uint64(ino)
		}
		nodes = append(nodes, &n)
		if n.Kind == tree.Regular && n.Size > 0 && !done[ino] && !w.noContents {
			done[ino] = true
			c.files = append(c.files, fileRef{node: &n, in: w.inodes[ino]})
		}
	}
	if w.noContents {
		return &Result{Tree: tree.New(nodes, nil), Inode: w.ino}
	}
	return &Result{Tree: tree.New(nodes, c), Inode: w.ino}
}

// fileRef is a regular file with content: its first path's node and inode.
type fileRef struct {
	node *tree.Node
	in   *file.Inode
}

// contents reads regular files from the image, in path order.
type contents struct{ files []fileRef }

// Each calls fn once per regular file with content (once per hard-link
// group, with its first path), in path order.
func (c *contents) Each(fn func(n *tree.Node, r io.Reader) error) error {
	return c.EachOf(func(*tree.Node) bool { return true }, fn)
}

// EachOf is Each for the files want accepts (tree.Selector); the others
// are not read.
func (c *contents) EachOf(want func(n *tree.Node) bool, fn func(n *tree.Node, r io.Reader) error) error {
	for _, f := range c.files {
		if !want(f.node) {
			continue
		}
		if err := fn(f.node, f.in.NewReader()); err != nil {
			return err
		}
	}
	return nil
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func display(p string) string { return "/" + p }
