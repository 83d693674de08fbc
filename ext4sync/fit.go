package ext4sync

import (
	"errors"
	"fmt"
	"math"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// mtimeExtraEnd is the i_extra_isize that covers i_mtime_extra.
const mtimeExtraEnd = 0x8C - disk.GoodOldInodeSize

// fitTimes returns src with every mtime as the image's inodes will hold
// it (disk.TruncateTime: 128-byte inodes keep whole seconds from 1901 to
// 2038, larger ones nanoseconds up to 2446), so that the plan compares
// what can be stored: a node whose only difference is what the image
// cannot hold is unchanged, and a no-op release stays one. src itself is
// returned when nothing needs truncating; otherwise the changed nodes
// are copies, and src's own nodes are left as the source made them.
func fitTimes(f *fs.FS, src *tree.Tree) *tree.Tree {
	extra := int(f.NewInode().ExtraIsize) >= mtimeExtraEnd
	var nodes []*tree.Node
	for i, n := range src.Nodes {
		sec, nsec := disk.TruncateTime(n.Mtime.Sec, n.Mtime.Nsec, extra)
		if sec == n.Mtime.Sec && nsec == n.Mtime.Nsec {
			if nodes != nil {
				nodes = append(nodes, n)
			}
			continue
		}
		if nodes == nil {
			nodes = append(make([]*tree.Node, 0, len(src.Nodes)), src.Nodes[:i]...)
		}
		c := *n
		c.Mtime = tree.Time{Sec: sec, Nsec: nsec}
		nodes = append(nodes, &c)
	}
	if nodes == nil {
		return src
	}
	return tree.New(nodes, src.Contents)
}

// ErrUnfit is matched (errors.Is) by every refusal of a tree the image's
// filesystem cannot hold as it stands: something it would need a feature
// for that the image does not declare, or something beyond ext4's limits
// at the image's block size. The sync refuses before it writes anything;
// it never enables a feature on its own.
var ErrUnfit = errors.New("the image's filesystem cannot hold it")

// UnfitError names the path, what about it does not fit, and the feature
// it would need ("" for a limit no feature lifts).
type UnfitError struct {
	Path    string
	What    string
	Feature string
}

func (e *UnfitError) Error() string {
	if e.Feature == "" {
		return fmt.Sprintf("%s: %s", displayPath(e.Path), e.What)
	}
	return fmt.Sprintf("%s: %s, which needs the %s feature the base image lacks", displayPath(e.Path), e.What, e.Feature)
}

func (e *UnfitError) Is(target error) bool { return target == ErrUnfit }

// linkMax is the most links one inode holds (EXT4_LINK_MAX); past it a
// directory's count reads 1, which needs dir_nlink.
const linkMax = 65000

// MaxFileSize is the largest i_size ext4 gives a file with extents at
// block size bs (the kernel's s_maxbytes): logical block numbers are 32
// bits (one block is kept so the last extent's length fits), and without
// huge_file i_blocks counts 512-byte sectors in 32 bits.
func MaxFileSize(bs uint32, hugeFile bool) int64 {
	bits := uint(0)
	for 1<<bits < bs {
		bits++
	}
	res := int64(1<<32-1) << bits
	if !hugeFile {
		res = min(res, int64(1<<32-1)>>(bits-9)<<bits)
	}
	return res
}

// checkFit refuses a tree the filesystem f cannot hold (see ErrUnfit).
// Every structure the sync writes that a feature gates is checked here
// or where it is written:
//
//   - xattrs (in the inode or a block, ACLs included) need ext_attr;
//   - a regular file of 2 GiB or more needs large_file, one larger than
//     MaxFileSize is beyond ext4 (huge_file raises the limit);
//   - a symlink's target must be shorter than one block (ext4 keeps a
//     long target in a single block, with its NUL), whatever the source
//     allowed;
//   - a directory of more than 64998 subdirectories needs dir_nlink (its
//     link count then reads 1; more than 65000 links to one file are
//     plan.ErrTree);
//   - an htree index is only made under dir_index (package dir), the
//     64-bit halves of block numbers only exist under 64bit (package
//     disk), checksums are written as metadata_csum or gdt_csum says, and
//     new inodes get at least s_min_extra_isize under extra_isize (fs).
func checkFit(f *fs.FS, want *tree.Tree) error {
	bs := f.BlockSize()
	extAttr := f.HasCompat(disk.CompatExtAttr)
	largeFile := f.HasRoCompat(disk.RoCompatLargeFile)
	hugeFile := f.HasRoCompat(disk.RoCompatHugeFile)
	dirNlink := f.HasRoCompat(disk.RoCompatDirNlink)
	maxSize := MaxFileSize(bs, hugeFile)
	subdirs := make(map[string]int)
	for _, n := range want.Nodes {
		if len(n.Xattrs) > 0 && !extAttr {
			return &UnfitError{Path: n.Path, What: fmt.Sprintf("has %s (%d bytes)", xattrNames(n.Xattrs), xattrBytes(n.Xattrs)), Feature: "ext_attr"}
		}
		switch {
		case n.Kind == tree.Regular && n.Size > maxSize:
			e := &UnfitError{Path: n.Path, What: fmt.Sprintf("is %d bytes, more than ext4 holds in one file with %d-byte blocks (%d)", n.Size, bs, maxSize)}
			if !hugeFile && n.Size <= MaxFileSize(bs, true) {
				e.What = fmt.Sprintf("is %d bytes, more than %d", n.Size, maxSize)
				e.Feature = "huge_file"
			}
			return e
		case n.Kind == tree.Regular && n.Size > math.MaxInt32 && !largeFile:
			return &UnfitError{Path: n.Path, What: fmt.Sprintf("is %d bytes (2 GiB or more)", n.Size), Feature: "large_file"}
		case n.Kind == tree.Symlink && len(n.Target) >= int(bs):
			return &UnfitError{Path: n.Path, What: fmt.Sprintf("is a symlink whose target of %d bytes is more than ext4 holds with %d-byte blocks (%d)", len(n.Target), bs, bs-1)}
		case n.Kind == tree.Dir && n.Path != "":
			subdirs[n.Parent()]++
		}
	}
	if !dirNlink {
		for _, n := range want.Nodes {
			if n.Kind == tree.Dir && subdirs[n.Path] > linkMax-2 {
				return &UnfitError{Path: n.Path, What: fmt.Sprintf("has %d subdirectories, more than %d", subdirs[n.Path], linkMax-2), Feature: "dir_nlink"}
			}
		}
	}
	return nil
}

// xattrNames says which xattrs a node has, for messages.
func xattrNames(x []tree.Xattr) string {
	if len(x) == 1 {
		return "the extended attribute " + x[0].Name
	}
	return fmt.Sprintf("%d extended attributes (%s, ...)", len(x), x[0].Name)
}

func xattrBytes(x []tree.Xattr) int {
	n := 0
	for _, a := range x {
		n += len(a.Value)
	}
	return n
}
