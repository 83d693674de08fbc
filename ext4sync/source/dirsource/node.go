package dirsource

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// permMask keeps the permission bits a tree.Node carries: setuid, setgid,
// sticky and rwx for user, group and others.
const permMask = 0o7777

// node lstats one path and describes it. It reads symlink targets, xattrs
// and the holes of regular files, so an unreadable file fails here
// with its path rather than later while its content streams.
func (r *reader) node(path string) (*tree.Node, error) {
	full := r.full(path)
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		return nil, fmt.Errorf("source: lstat %s: %w", display(path), err)
	}
	kind, err := kindOf(st.Mode)
	if err != nil {
		return nil, fmt.Errorf("source: %s: %w", display(path), err)
	}
	n := &tree.Node{
		Path:  path,
		Kind:  kind,
		Mode:  st.Mode & permMask,
		UID:   st.Uid,
		GID:   st.Gid,
		Mtime: tree.Time{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)},
	}
	switch kind {
	case tree.Regular:
		n.Size = st.Size
		if n.Data, err = r.segments(full, &st); err != nil {
			return nil, fmt.Errorf("source: %s: %w", display(path), err)
		}
	case tree.Symlink:
		if n.Target, err = readlink(full, st.Size); err != nil {
			return nil, fmt.Errorf("source: readlink %s: %w", display(path), err)
		}
	case tree.CharDev, tree.BlockDev:
		n.Major = unix.Major(st.Rdev)
		n.Minor = unix.Minor(st.Rdev)
	}
	if !r.opts.NoXattrs {
		if n.Xattrs, err = xattrs(full); err != nil {
			return nil, fmt.Errorf("source: xattrs of %s: %w", display(path), err)
		}
	}
	if kind != tree.Dir {
		id := fileID{dev: st.Dev, ino: st.Ino}
		r.ids[id] = append(r.ids[id], n)
	}
	return n, nil
}

// kindOf maps the S_IFMT bits of st_mode to a tree.Kind.
func kindOf(mode uint32) (tree.Kind, error) {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return tree.Regular, nil
	case unix.S_IFDIR:
		return tree.Dir, nil
	case unix.S_IFLNK:
		return tree.Symlink, nil
	case unix.S_IFCHR:
		return tree.CharDev, nil
	case unix.S_IFBLK:
		return tree.BlockDev, nil
	case unix.S_IFIFO:
		return tree.FIFO, nil
	case unix.S_IFSOCK:
		return tree.Socket, nil
	}
	return 0, fmt.Errorf("unknown file type %#o", mode&unix.S_IFMT)
}

// maxTarget bounds a symlink target: the kernel's PATH_MAX, the longest
// target symlink(2) accepts.
const maxTarget = unix.PathMax

// readlink returns the target of the symlink at full verbatim. size is the
// lstat size; a target that does not fit the buffer grew since lstat.
func readlink(full string, size int64) (string, error) {
	if size < 0 || size > maxTarget {
		return "", fmt.Errorf("target length %d out of range", size)
	}
	buf := make([]byte, size+1)
	n, err := unix.Readlink(full, buf)
	if err != nil {
		return "", err
	}
	if int64(n) != size {
		return "", fmt.Errorf("target changed while read (%d bytes, lstat said %d)", n, size)
	}
	return string(buf[:n]), nil
}
