package ext4test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"testing"

	goext4 "github.com/masahiro331/go-ext4-filesystem/ext4"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// goext4Known: go-ext4-filesystem's FileInfo.Sys() is nil, so it shows
// only type, permission bits, size, mtime seconds, targets and content.
const goext4Known = FieldKind | FieldMode | FieldSize | FieldMtime | FieldTarget | FieldContent

// SnapshotGoExt4 reads img with github.com/masahiro331/go-ext4-filesystem.
// It cleans symlink targets (path.Clean), so Compare cleans the other
// side's targets too (Snapshot.CleanTargets).
func SnapshotGoExt4(t testing.TB, img string) *Snapshot {
	t.Helper()
	s, err := SnapshotGoExt4Err(img)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mapCache is an unbounded inode cache for go-ext4, which otherwise
// re-reads every inode of a directory on each lookup in it.
type mapCache struct {
	mu sync.Mutex
	m  map[string]any
}

func (c *mapCache) Add(k string, v any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
	return false
}

func (c *mapCache) Get(k string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// SnapshotGoExt4Err is SnapshotGoExt4 returning errors.
func SnapshotGoExt4Err(img string) (snap *Snapshot, err error) {
	f, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("ext4test: go-ext4: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ext4test: go-ext4: %w", err)
	}
	// A reader that fails must not take the test binary down with it.
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("ext4test: go-ext4 panicked reading %s: %v", img, r)
		}
	}()
	fsys, err := goext4.NewFS(*io.NewSectionReader(f, 0, fi.Size()), &mapCache{m: map[string]any{}})
	if err != nil {
		return nil, fmt.Errorf("ext4test: go-ext4: open %s: %w", img, err)
	}
	snap = newSnapshot("go-ext4", goext4Known)
	snap.CleanTargets = true
	root, err := fsys.ReadDirInfo("/")
	if err != nil {
		return nil, fmt.Errorf("ext4test: go-ext4: root of %s: %w", img, err)
	}
	snap.Entries[""] = goext4Entry("", root)
	if err := goext4Walk(fsys, "", snap, 0); err != nil {
		return nil, fmt.Errorf("ext4test: go-ext4: %s: %w", img, err)
	}
	return snap, nil
}

// goext4SampleDir is the largest directory whose files go-ext4 all opens.
const goext4SampleDir = 128

// maxDepth bounds recursion on a damaged image (PATH_MAX / 2).
const maxDepth = 2048

func goext4Walk(fsys *goext4.FileSystem, dir string, snap *Snapshot, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("directory %q: deeper than %d", dir, maxDepth)
	}
	ents, err := fsys.ReadDir("/" + dir)
	if err != nil {
		return fmt.Errorf("read directory %q: %w", dir, err)
	}
	// go-ext4's Open re-reads the whole directory for every lookup, so in
	// a huge directory it only reads the content of a fixed sample of
	// files (debugfs and the kernel still read all of them).
	stride := 1
	if len(ents) > goext4SampleDir {
		stride = (len(ents) + goext4SampleDir - 1) / goext4SampleDir
	}
	for i, de := range ents {
		p := path.Join(dir, de.Name())
		info, err := de.Info()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		e := goext4Entry(p, info)
		if len(snap.Entries) > maxEntries {
			return fmt.Errorf("more than %d entries", maxEntries)
		}
		snap.Entries[p] = e
		switch e.Kind {
		case tree.Dir:
			if err := goext4Walk(fsys, p, snap, depth+1); err != nil {
				return err
			}
		case tree.Symlink:
			tgt, err := goext4ReadLink(fsys, p)
			if errors.Is(err, errGoext4Panic) {
				e.Unknown |= FieldTarget
				snap.Notes = append(snap.Notes, fmt.Sprintf("%s: %v", p, err))
				continue
			}
			if err != nil {
				return fmt.Errorf("readlink %s: %w", p, err)
			}
			e.Target = tgt
		case tree.Regular:
			if i%stride != 0 {
				e.Unknown |= FieldContent
				continue
			}
			fh, err := fsys.Open(p)
			if err != nil {
				return fmt.Errorf("open %s: %w", p, err)
			}
			h := sha256.New()
			n, err := io.Copy(h, fh)
			fh.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			if n != e.Size {
				return fmt.Errorf("read %s: %d bytes, size %d", p, n, e.Size)
			}
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
	}
	return nil
}

var errGoext4Panic = errors.New("go-ext4 panicked")

// goext4ReadLink reads a symlink target. go-ext4 slices the inode's
// i_block with the target length for every symlink without extents, so
// it panics on slow symlinks of block-mapped (non-extent) images; that
// is reported as errGoext4Panic and the target left unknown.
func goext4ReadLink(fsys *goext4.FileSystem, p string) (tgt string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: readlink: %v", errGoext4Panic, r)
		}
	}()
	return fsys.ReadLink(p)
}

func goext4Entry(p string, info fs.FileInfo) *Entry {
	m := info.Mode()
	e := &Entry{Path: p, Mode: uint32(m.Perm()), Mtime: Time{Sec: info.ModTime().Unix()}}
	if m&fs.ModeSetuid != 0 {
		e.Mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		e.Mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		e.Mode |= 0o1000
	}
	switch {
	case m.IsDir():
		e.Kind = tree.Dir
	case m&fs.ModeSymlink != 0:
		e.Kind = tree.Symlink
	case m&fs.ModeCharDevice != 0:
		e.Kind = tree.CharDev
	case m&fs.ModeDevice != 0:
		e.Kind = tree.BlockDev
	case m&fs.ModeNamedPipe != 0:
		e.Kind = tree.FIFO
	case m&fs.ModeSocket != 0:
		e.Kind = tree.Socket
	case m.IsRegular():
		e.Kind = tree.Regular
	}
	if e.Kind == tree.Regular || e.Kind == tree.Symlink {
		e.Size = info.Size()
	}
	return e
}
