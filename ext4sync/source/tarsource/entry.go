package tarsource

import (
	"archive/tar"
	"fmt"
	"math"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// permMask keeps the permission bits a tree.Node carries.
const permMask = 0o7777

// maxTarget bounds a symlink target: PATH_MAX, the longest symlink(2)
// accepts (including its terminating NUL).
const maxTarget = 4095

// The largest device numbers ext4's inode encoding (and Linux's dev_t)
// holds: a 12-bit major and a 20-bit minor.
const (
	maxDevMajor = 1<<12 - 1
	maxDevMinor = 1<<20 - 1
)

// entry applies one header to the extracted state.
func (r *reader) entry(index int, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	path, err := cleanPath(hdr.Name)
	if err != nil {
		return err
	}
	if err := r.checkAncestors(path); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeLink {
		return r.link(path, hdr)
	}
	n, err := nodeOf(hdr)
	if err != nil {
		return err
	}
	if path == "" && n.Kind != tree.Dir {
		return fmt.Errorf("%w: the root entry is a %s, not a directory", ErrBadEntry, n.Kind)
	}
	if !r.opts.NoXattrs {
		if n.Xattrs, err = xattrsOf(hdr.PAXRecords); err != nil {
			return err
		}
	}
	in := &inode{node: n, entry: -1}
	if n.Kind == tree.Regular && n.Size > 0 {
		in.entry, in.name = index, hdr.Name
	}
	r.paths[path] = in
	return nil
}

// checkAncestors refuses a path below something the archive made a
// symlink (extracting it would write outside the tree).
func (r *reader) checkAncestors(path string) error {
	for p := parentOf(path); p != ""; p = parentOf(p) {
		if in, ok := r.paths[p]; ok && in.node.Kind == tree.Symlink {
			return fmt.Errorf("%w: %s is a symlink", ErrThroughSymlink, display(p))
		}
	}
	return nil
}

// link makes path another name of an earlier entry's inode.
func (r *reader) link(path string, hdr *tar.Header) error {
	target, err := cleanPath(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	if err := r.checkAncestors(target); err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	in, ok := r.paths[target]
	switch {
	case !ok:
		return fmt.Errorf("%w: target %q is not an earlier entry", ErrBadLink, hdr.Linkname)
	case in.node.Kind == tree.Dir:
		return fmt.Errorf("%w: target %q is a directory", ErrBadLink, hdr.Linkname)
	case path == "":
		return fmt.Errorf("%w: the root entry is a hard link", ErrBadEntry)
	}
	r.paths[path] = in
	return nil
}

// nodeOf describes a non-link header.
func nodeOf(hdr *tar.Header) (tree.Node, error) {
	n := tree.Node{Mode: uint32(hdr.Mode) & permMask}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		n.Kind, n.Size = tree.Regular, hdr.Size
	case tar.TypeDir:
		n.Kind = tree.Dir
	case tar.TypeSymlink:
		n.Kind, n.Target = tree.Symlink, hdr.Linkname
		if n.Target == "" || len(n.Target) > maxTarget || strings.IndexByte(n.Target, 0) >= 0 {
			return n, fmt.Errorf("%w: symlink target of %d bytes (1 to %d, no NUL)", ErrBadEntry, len(n.Target), maxTarget)
		}
	case tar.TypeChar, tar.TypeBlock:
		n.Kind = tree.CharDev
		if hdr.Typeflag == tar.TypeBlock {
			n.Kind = tree.BlockDev
		}
		if hdr.Devmajor < 0 || hdr.Devmajor > maxDevMajor || hdr.Devminor < 0 || hdr.Devminor > maxDevMinor {
			return n, fmt.Errorf("%w: device number %d:%d (ext4 holds majors up to %d and minors up to %d)",
				ErrBadEntry, hdr.Devmajor, hdr.Devminor, maxDevMajor, maxDevMinor)
		}
		n.Major, n.Minor = uint32(hdr.Devmajor), uint32(hdr.Devminor)
	case tar.TypeFifo:
		n.Kind = tree.FIFO
	default:
		return n, fmt.Errorf("%w: type flag %q", ErrUnknownType, hdr.Typeflag)
	}
	if hdr.Mode < 0 || hdr.Mode > math.MaxUint32 {
		return n, fmt.Errorf("%w: mode %#o", ErrBadEntry, hdr.Mode)
	}
	if !fitsU32(int64(hdr.Uid)) || !fitsU32(int64(hdr.Gid)) {
		return n, fmt.Errorf("%w: owner %d:%d", ErrBadEntry, hdr.Uid, hdr.Gid)
	}
	n.UID, n.GID = uint32(hdr.Uid), uint32(hdr.Gid)
	mt := hdr.ModTime
	n.Mtime = tree.Time{Sec: mt.Unix(), Nsec: uint32(mt.Nanosecond())}
	return n, nil
}

func fitsU32(v int64) bool { return v >= 0 && v <= math.MaxUint32 }
