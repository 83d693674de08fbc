package ext4test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// dirKnown is what a directory walk reports. Data ranges are left out:
// the host filesystem's block size and zero-block handling differ from
// the image's (mkfs -d turns zero blocks into holes).
const dirKnown = FieldsAll &^ FieldData

// SnapshotDir reads a directory tree with lstat, statx (birth time),
// listxattr/getxattr, readlink and sha256 of contents.
func SnapshotDir(t testing.TB, dir string) *Snapshot {
	t.Helper()
	s, err := SnapshotDirErr(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SnapshotDirErr is SnapshotDir returning errors.
func SnapshotDirErr(dir string) (*Snapshot, error) {
	return snapshotDir("dir", dir)
}

func snapshotDir(judge, dir string) (*Snapshot, error) {
	snap := newSnapshot(judge, dirKnown)
	root := filepath.Clean(dir)
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		e, err := statPath(p, rel)
		if err != nil {
			return err
		}
		snap.Entries[rel] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ext4test: snapshot of %s: %w", dir, err)
	}
	return snap, nil
}

// statPath builds the entry of one path.
func statPath(p, rel string) (*Entry, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW,
		unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st); err != nil {
		return nil, fmt.Errorf("statx %s: %w", p, err)
	}
	e := &Entry{
		Path: rel, Kind: kindFromMode(uint32(st.Mode)), Mode: uint32(st.Mode) & permMask,
		UID: st.Uid, GID: st.Gid, Nlink: st.Nlink, Ino: st.Ino,
		Mtime: stxTime(st.Mtime), Atime: stxTime(st.Atime), Ctime: stxTime(st.Ctime),
	}
	if st.Mask&unix.STATX_BTIME != 0 {
		e.Crtime = stxTime(st.Btime)
	}
	switch e.Kind {
	case tree.Regular:
		e.Size = int64(st.Size)
		sum, data, err := hashAndRanges(p, e.Size)
		if err != nil {
			return nil, err
		}
		e.SHA256, e.Data = sum, data
	case tree.Symlink:
		e.Size = int64(st.Size)
		tgt, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		e.Target = tgt
	case tree.CharDev, tree.BlockDev:
		e.Major, e.Minor = st.Rdev_major, st.Rdev_minor
	}
	x, err := readXattrs(p)
	if err != nil {
		return nil, err
	}
	e.Xattrs = x
	return e, nil
}

func stxTime(t unix.StatxTimestamp) Time { return Time{Sec: t.Sec, Nsec: t.Nsec} }

// readXattrs returns all xattrs of a path without following symlinks, or
// nil when it has none.
func readXattrs(p string) (map[string][]byte, error) {
	sz, err := unix.Llistxattr(p, nil)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, fmt.Errorf("listxattr %s: %w", p, err)
	}
	if sz == 0 {
		return nil, nil
	}
	buf := make([]byte, sz)
	sz, err = unix.Llistxattr(p, buf)
	if err != nil {
		return nil, fmt.Errorf("listxattr %s: %w", p, err)
	}
	out := map[string][]byte{}
	for _, n := range strings.Split(strings.TrimRight(string(buf[:sz]), "\x00"), "\x00") {
		if n == "" {
			continue
		}
		v, err := lgetxattr(p, n)
		if err != nil {
			return nil, err
		}
		out[n] = v
	}
	return out, nil
}

// maxXattrValue is the largest value Linux allows (XATTR_SIZE_MAX).
const maxXattrValue = 64 << 10

func lgetxattr(p, name string) ([]byte, error) {
	buf := make([]byte, maxXattrValue)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return nil, fmt.Errorf("getxattr %s %s: %w", p, name, err)
	}
	return append([]byte{}, buf[:n]...), nil
}

// hashAndRanges hashes a file's content and lists its data ranges with
// SEEK_DATA/SEEK_HOLE.
func hashAndRanges(p string, size int64) (string, []tree.Segment, error) {
	// O_NOATIME: reading must not change the source it judges.
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOATIME, 0)
	if err != nil {
		f, err = os.Open(p)
	}
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", p, err)
	}
	if n != size {
		return "", nil, fmt.Errorf("read %s: %d bytes, size %d", p, n, size)
	}
	var segs []tree.Segment
	fd := int(f.Fd())
	for off := int64(0); off < size; {
		d, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if err != nil {
			break // ENXIO: no more data
		}
		hole, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil || hole <= d {
			hole = size
		}
		segs = append(segs, tree.Segment{Off: d, Len: hole - d})
		off = hole
	}
	if segs == nil {
		segs = []tree.Segment{}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Off < segs[j].Off })
	return hex.EncodeToString(h.Sum(nil)), segs, nil
}
