// Package tree is the model of a rootfs that the engine syncs onto an image:
// every path with its type, metadata, xattrs and (for regular files) a way
// to read its content. Sources (a directory, a tar archive, an ext4 image)
// produce a Tree; ext4sync consumes it. The model is source-neutral: xattr
// names and values are as the VFS presents them (getxattr), so POSIX ACLs
// are in the VFS encoding here and the engine converts them to ext4's.
package tree

import (
	"io"
	"sort"
	"strings"
)

// Kind is a file type.
type Kind uint8

const (
	Regular Kind = iota + 1
	Dir
	Symlink
	CharDev
	BlockDev
	FIFO
	Socket
)

func (k Kind) String() string {
	switch k {
	case Regular:
		return "regular"
	case Dir:
		return "directory"
	case Symlink:
		return "symlink"
	case CharDev:
		return "char-device"
	case BlockDev:
		return "block-device"
	case FIFO:
		return "fifo"
	case Socket:
		return "socket"
	}
	return "unknown"
}

// Time is a timestamp with nanoseconds, seconds since the Unix epoch.
type Time struct {
	Sec  int64
	Nsec uint32
}

// Xattr is one extended attribute, named and encoded as the VFS shows it
// (e.g. "security.capability", "system.posix_acl_access").
type Xattr struct {
	Name  string
	Value []byte
}

// Segment is a byte range of a regular file that holds data; everything
// outside a file's segments is a hole and reads as zeros.
type Segment struct {
	Off, Len int64
}

// Node is one path of the tree.
type Node struct {
	Path   string // slash-separated, no leading slash; "" is the root
	Kind   Kind
	Mode   uint32 // permission bits only: 07777 (setuid, setgid, sticky, rwx)
	UID    uint32
	GID    uint32
	Mtime  Time
	Size   int64  // regular files: content length in bytes
	Target string // symlinks: the target, verbatim
	Major  uint32 // char and block devices
	Minor  uint32
	Xattrs []Xattr // sorted by Name
	// LinkID is non-zero and equal for nodes that are one inode (hard
	// links). Only regular files, devices, FIFOs and sockets can share one.
	LinkID uint64
	// Data lists the ranges that hold data, for sparse files. Nil means the
	// whole file is data; an empty non-nil slice means it is all hole.
	Data []Segment
}

// Name is the last element of the node's path.
func (n *Node) Name() string {
	return n.Path[strings.LastIndexByte(n.Path, '/')+1:]
}

// Parent is the path of the directory holding the node ("" for the root's
// children; the root has no parent and returns "").
func (n *Node) Parent() string {
	i := strings.LastIndexByte(n.Path, '/')
	if i < 0 {
		return ""
	}
	return n.Path[:i]
}

// Contents yields the bytes of regular files.
type Contents interface {
	// Each calls fn once for every regular file with Size > 0 (once per
	// hard-link group, with one of its nodes), in the source's own order,
	// which a streaming source (tar) cannot change. r reads exactly Size
	// bytes, holes as zeros. Each may be called more than once.
	Each(fn func(n *Node, r io.Reader) error) error
}

// Selector is implemented by Contents that can leave files unread (a
// directory or an image opens every file on its own; a tar stream cannot).
// The sync asks it only for the files it still has to write.
type Selector interface {
	// EachOf is Each for the files want accepts; the others are not
	// read.
	EachOf(want func(n *Node) bool, fn func(n *Node, r io.Reader) error) error
}

// Concurrent is implemented by Contents that can read several files at
// once (a directory opens every file on its own). The sync's digest pass
// reads through it on every core.
type Concurrent interface {
	// EachConcurrent is Each with fn called from up to workers
	// goroutines at once, each call for another file. When calls fail,
	// the error returned is the one of the first failing file in Each's
	// order.
	EachConcurrent(workers int, fn func(n *Node, r io.Reader) error) error
}

// Tree is a whole rootfs: its nodes sorted by path (so every directory comes
// before its children), and its contents.
type Tree struct {
	Nodes    []*Node
	Contents Contents
}

// New builds a tree from nodes in any order. The root ("") must be present.
func New(nodes []*Node, contents Contents) *Tree {
	sorted := append([]*Node(nil), nodes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	return &Tree{Nodes: sorted, Contents: contents}
}

// Lookup returns the node at path, or nil. It searches the sorted nodes
// rather than keeping a map of every path: the trees of a large rootfs
// are held for a whole sync, and a map by path would add about half as
// much memory again as the nodes themselves.
func (t *Tree) Lookup(path string) *Node {
	i := sort.Search(len(t.Nodes), func(i int) bool { return t.Nodes[i].Path >= path })
	if i < len(t.Nodes) && t.Nodes[i].Path == path {
		return t.Nodes[i]
	}
	return nil
}
