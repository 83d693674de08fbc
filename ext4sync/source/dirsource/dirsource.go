// Package dirsource reads a directory on the local filesystem as a
// tree.Tree: every path below the root with its type, metadata, xattrs,
// hard-link groups and holes, and a Contents that streams the
// regular files. It never follows symlinks and never changes what it reads.
package dirsource

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// maxNameLen is the longest file name ext4 stores (EXT4_NAME_LEN).
const maxNameLen = 255

// Options tune Read. The zero value reads everything.
type Options struct {
	// NoXattrs skips extended attributes (every node gets none).
	NoXattrs bool
	// Progress, when set, is called with the number of paths read so
	// far, every progressEvery paths and at the end.
	Progress func(paths int64)
}

// progressEvery is how many paths Read reads between Progress calls.
const progressEvery = 256

// Read lstats the directory root and everything below it and returns the
// tree. root itself must be a directory, not a symlink to one. The result
// is deterministic: the same directory gives an identical Tree.
func Read(root string, opts Options) (*tree.Tree, error) {
	r := &reader{root: root, opts: opts, open: openNoFollow, access: accessRead, openFile: openFileNoFollow}
	return r.read()
}

// reader walks one directory. open is replaceable so tests can simulate
// failures that root's permissions would hide; access is readable's quick
// check, nil to always open.
type reader struct {
	root   string
	opts   Options
	open   func(path string) (*os.File, error)
	access func(path string) error
	// openFile opens files for their content; nil uses open.
	openFile func(path string) (srcFile, error)
	nodes    []*tree.Node
	ids      map[fileID][]*tree.Node // hard-link candidates by (dev, ino)
	// afterRead is a test hook run by Contents.Each after a file was read
	// and before it is checked for changes.
	afterRead func(n *tree.Node, full string)
}

// fileID identifies one inode of the local filesystem.
type fileID struct {
	dev, ino uint64
}

func (r *reader) read() (*tree.Tree, error) {
	var st unix.Stat_t
	if err := unix.Lstat(r.root, &st); err != nil {
		return nil, fmt.Errorf("source: lstat root %s: %w", r.root, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("source: root %s is not a directory (symlinks are not followed)", r.root)
	}
	r.ids = make(map[fileID][]*tree.Node)
	if err := r.walk(""); err != nil {
		return nil, err
	}
	if p := r.opts.Progress; p != nil {
		p(int64(len(r.nodes)))
	}
	r.linkGroups()
	t := tree.New(r.nodes, &contents{r: r, nodes: r.regularFiles()})
	// The contents keep the reader for its root and hooks; the walk's own
	// state is the tree's now or done with (per path: it would be held
	// for the whole sync).
	r.nodes, r.ids = nil, nil
	return t, nil
}

// full is the local path of a tree path.
func (r *reader) full(path string) string {
	if path == "" {
		return r.root
	}
	return filepath.Join(r.root, filepath.FromSlash(path))
}

// walk adds the node at path and, for a directory, everything below it.
// An explicit stack keeps deep trees off the goroutine stack.
func (r *reader) walk(start string) error {
	stack := []string{start}
	for len(stack) > 0 {
		path := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, err := r.node(path)
		if err != nil {
			return err
		}
		r.nodes = append(r.nodes, n)
		if p := r.opts.Progress; p != nil && len(r.nodes)%progressEvery == 0 {
			p(int64(len(r.nodes)))
		}
		if n.Kind != tree.Dir {
			continue
		}
		names, err := r.list(path)
		if err != nil {
			return err
		}
		// Push in reverse so children pop in name order (the order only
		// matters for error reporting; the tree is sorted anyway).
		for i := len(names) - 1; i >= 0; i-- {
			stack = append(stack, join(path, names[i]))
		}
	}
	return nil
}

// list returns the names in the directory at path, sorted, checked for
// what ext4 can store.
func (r *reader) list(path string) ([]string, error) {
	f, err := r.open(r.full(path))
	if err != nil {
		return nil, fmt.Errorf("source: open directory %s: %w", display(path), err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("source: read directory %s: %w", display(path), err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("source: %s: %w", join(path, name), err)
		}
	}
	return names, nil
}

// checkName refuses names an ext4 directory entry cannot hold.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case len(name) > maxNameLen:
		return fmt.Errorf("file name is %d bytes, ext4 allows %d", len(name), maxNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("reserved file name %q", name)
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return fmt.Errorf("file name has byte %#x", name[i])
		}
	}
	return nil
}

// linkGroups gives every set of nodes sharing one local inode the same
// LinkID: one plus the index (in sorted path order) of its first path.
func (r *reader) linkGroups() {
	sort.Slice(r.nodes, func(i, j int) bool { return r.nodes[i].Path < r.nodes[j].Path })
	index := make(map[*tree.Node]int, len(r.nodes))
	for i, n := range r.nodes {
		index[n] = i
	}
	for _, group := range r.ids {
		if len(group) < 2 {
			continue
		}
		first := group[0]
		for _, n := range group[1:] {
			if n.Path < first.Path {
				first = n
			}
		}
		id := uint64(index[first]) + 1
		for _, n := range group {
			n.LinkID = id
		}
	}
}

// regularFiles lists the regular files Contents yields: Size > 0 and one
// per hard-link group (its first path), in sorted path order.
func (r *reader) regularFiles() []*tree.Node {
	var out []*tree.Node
	seen := make(map[uint64]bool)
	for _, n := range r.nodes {
		if n.Kind != tree.Regular || n.Size == 0 {
			continue
		}
		if n.LinkID != 0 {
			if seen[n.LinkID] {
				continue
			}
			seen[n.LinkID] = true
		}
		out = append(out, n)
	}
	return out
}

// join appends name to the tree path dir.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// display names a tree path in messages; the root reads as "/".
func display(path string) string {
	return "/" + path
}

// openNoFollow opens a file or directory for reading without following a
// symlink in its last element. Only what lstat called a regular file or a
// directory is opened; a FIFO put in its place between the two would
// block the open (no O_NONBLOCK yet).
func openNoFollow(path string) (*os.File, error) {
	fd, err := openFd(path)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openFd is openNoFollow's open(2), for it and openFileNoFollow. Like
// os.Open it tries again when a signal interrupts the call (the
// runtime's preemption signals can, on FUSE and network filesystems).
func openFd(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}
