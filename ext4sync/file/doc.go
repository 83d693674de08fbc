// Package file is the inode object layer of the ext4 engine: one inode of an
// open *fs.FS as an object that can be read (metadata as a tree.Node, content,
// target, device numbers, xattrs) and edited in place (content block by block,
// metadata, xattrs, symlink targets, directory blocks), then saved.
//
// Data, extent-tree, xattr and directory blocks are written as the operations
// run; the inode itself reaches the device only on Save, and only when its
// bytes differ from what is on disk. Nothing here decides policy beyond what
// the engine's contract fixes: all-zero blocks of regular files are holes
// (as mke2fs -d stores them), fast symlinks below 60 bytes, device numbers in
// the kernel's encoding, and times stamped per Options on inodes that change.
package file

import (
	"errors"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// Options are the policies an edit follows.
type Options struct {
	// SourceDateEpoch, when set, is the atime, ctime and crtime of every
	// inode that is written (and the dtime of freed ones); nil: those times
	// follow the inode's mtime.
	SourceDateEpoch *int64
}

// ErrKind is wrapped when an operation does not apply to the inode's kind
// (e.g. WriteContent on a directory).
var ErrKind = errors.New("operation does not apply to this file type")

// corruptf returns an error about inode ino that matches fs.ErrCorrupt.
func corruptf(ino uint32, format string, a ...any) error {
	return fmt.Errorf("ext4: inode %d: %s: %w", ino, fmt.Sprintf(format, a...), fs.ErrCorrupt)
}

// unsupportedf returns an error about inode ino that matches fs.ErrUnsupported.
func unsupportedf(ino uint32, format string, a ...any) error {
	return fmt.Errorf("ext4: inode %d: %s: %w", ino, fmt.Sprintf(format, a...), fs.ErrUnsupported)
}

// kindf returns an error about an operation that does not fit the inode.
func kindf(ino uint32, op string, k fmt.Stringer) error {
	return fmt.Errorf("ext4: inode %d: %s on a %s: %w", ino, op, k, ErrKind)
}

// wrapf names inode ino and what was being done around err.
func wrapf(ino uint32, what string, err error) error {
	return fmt.Errorf("ext4: inode %d: %s: %w", ino, what, err)
}
