package ext4test

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// MutateOptions shape a random release.
type MutateOptions struct {
	Ops     int // operations to apply; 0 means 20
	MaxSize int // largest new or grown file; 0 means 128 KiB
	// MaxTarget is the longest new symlink target; 0 means 4000. Keep
	// it below the image's block size.
	MaxTarget int
}

const (
	defaultMutateOps = 20
	defaultMaxSize   = 128 << 10
	maxOpAttempts    = 50
)

// mutation is one kind of change; it returns a description, or "" when
// it found nothing to apply to.
type mutation func(m *mutator) (string, error)

var mutations = []mutation{
	(*mutator).addFile, (*mutator).addFile, (*mutator).addDir, (*mutator).addSymlink,
	(*mutator).addSpecial, (*mutator).remove, (*mutator).removeDir,
	(*mutator).modifyMiddle, (*mutator).modifyMiddle, (*mutator).grow, (*mutator).shrink,
	(*mutator).truncZero, (*mutator).rename, (*mutator).chmod, (*mutator).chown,
	(*mutator).setXattr, (*mutator).removeXattr, (*mutator).setACL,
	(*mutator).addHardLink, (*mutator).breakHardLink, (*mutator).makeSparse,
	(*mutator).fileToDir, (*mutator).dirToFile, (*mutator).fileToSymlink, (*mutator).touch,
}

// Mutate applies random changes to the tree in dir, as a new release
// would: adds, removes, edits in the middle, grows, shrinks, truncations,
// renames, chmod/chown, xattr and ACL changes, hard links made and
// broken, sparse files and type changes. It returns one line per change,
// "op path...". Every path the OS gave a current mtime gets a random one
// again, so the result depends only on rng's state and the input tree.
func Mutate(rng *rand.Rand, dir string, o MutateOptions) ([]string, error) {
	if o.Ops == 0 {
		o.Ops = defaultMutateOps
	}
	if o.MaxSize == 0 {
		o.MaxSize = defaultMaxSize
	}
	m := &mutator{rng: rng, root: dir, o: o, isRoot: os.Geteuid() == 0, g: &gen{rng: rng, root: dir}}
	var did []string
	for i := 0; i < o.Ops; i++ {
		for attempt := 0; attempt < maxOpAttempts; attempt++ {
			if err := m.scan(); err != nil {
				return did, err
			}
			d, err := mutations[rng.IntN(len(mutations))](m)
			if err != nil {
				return did, err
			}
			if d != "" {
				did = append(did, d)
				break
			}
		}
	}
	return did, fixTimes(rng, dir, true)
}

type mutator struct {
	rng     *rand.Rand
	root    string
	o       MutateOptions
	isRoot  bool
	g       *gen
	dirs    []string // includes root
	files   []string // regular files
	links   []string // symlinks
	others  []string // everything that is not root
	nondirs []string
}

// scan lists the tree in WalkDir's (lexical, deterministic) order.
func (m *mutator) scan() error {
	m.dirs, m.files, m.links, m.others, m.nondirs = nil, nil, nil, nil, nil
	err := filepath.WalkDir(m.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir():
			m.dirs = append(m.dirs, p)
		case t.IsRegular():
			m.files = append(m.files, p)
		case t&fs.ModeSymlink != 0:
			m.links = append(m.links, p)
		}
		if p != m.root {
			m.others = append(m.others, p)
			if !d.IsDir() {
				m.nondirs = append(m.nondirs, p)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ext4test: walk %s: %w", m.root, err)
	}
	return nil
}

func pick(rng *rand.Rand, s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[rng.IntN(len(s))]
}

func (m *mutator) rel(p string) string { return relPath(m.root, p) }

func (m *mutator) addFile() (string, error) {
	p, err := m.g.file(pick(m.rng, m.dirs), randSize(m.rng, m.o.MaxSize))
	return "add-file " + m.rel(p), err
}

func (m *mutator) addDir() (string, error) {
	d, err := m.g.mkdir(pick(m.rng, m.dirs))
	if err != nil {
		return "", err
	}
	for n := m.rng.IntN(4); n > 0; n-- {
		if _, err := m.g.file(d, randSize(m.rng, m.o.MaxSize)); err != nil {
			return "", err
		}
	}
	return "add-dir " + m.rel(d), nil
}

func (m *mutator) addSymlink() (string, error) {
	p := m.g.fresh(pick(m.rng, m.dirs))
	if err := os.Symlink(randTarget(m.rng, m.o.MaxTarget), p); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return "add-symlink " + m.rel(p), nil
}

func (m *mutator) addSpecial() (string, error) {
	d := pick(m.rng, m.dirs)
	if err := m.g.special(d, m.isRoot); err != nil {
		return "", err
	}
	return "add-special in " + m.rel(d), nil
}

func (m *mutator) remove() (string, error) {
	p := pick(m.rng, m.nondirs)
	if p == "" {
		return "", nil
	}
	return "remove " + m.rel(p), wrap(os.Remove(p))
}

func (m *mutator) removeDir() (string, error) {
	if len(m.dirs) < 2 {
		return "", nil
	}
	p := m.dirs[1+m.rng.IntN(len(m.dirs)-1)]
	return "remove-tree " + m.rel(p), wrap(os.RemoveAll(p))
}

// editFile opens a random regular file for writing.
func (m *mutator) editFile() (*os.File, string, int64, error) {
	p := pick(m.rng, m.files)
	if p == "" {
		return nil, "", 0, nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return nil, "", 0, fmt.Errorf("ext4test: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", 0, fmt.Errorf("ext4test: %w", err)
	}
	return f, p, st.Size(), nil
}

func (m *mutator) modifyMiddle() (string, error) {
	f, p, size, err := m.editFile()
	if f == nil || err != nil {
		return "", err
	}
	defer f.Close()
	if size == 0 {
		return "", nil
	}
	off := m.rng.Int64N(size)
	n := 1 + m.rng.Int64N(min(size-off, 8192))
	if _, err := f.WriteAt(randBytes(m.rng, int(n)), off); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return fmt.Sprintf("modify %s @%d+%d", m.rel(p), off, n), nil
}

func (m *mutator) grow() (string, error) {
	f, p, size, err := m.editFile()
	if f == nil || err != nil {
		return "", err
	}
	defer f.Close()
	n := 1 + m.rng.IntN(m.o.MaxSize)
	if _, err := f.WriteAt(randContent(m.rng, n), size); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return fmt.Sprintf("grow %s %d->%d", m.rel(p), size, size+int64(n)), nil
}

func (m *mutator) shrink() (string, error) {
	f, p, size, err := m.editFile()
	if f == nil || err != nil {
		return "", err
	}
	defer f.Close()
	if size < 2 {
		return "", nil
	}
	n := 1 + m.rng.Int64N(size-1)
	return fmt.Sprintf("shrink %s %d->%d", m.rel(p), size, n), wrap(f.Truncate(n))
}

func (m *mutator) truncZero() (string, error) {
	f, p, size, err := m.editFile()
	if f == nil || err != nil {
		return "", err
	}
	defer f.Close()
	if size == 0 {
		return "", nil
	}
	return "truncate-zero " + m.rel(p), wrap(f.Truncate(0))
}

func (m *mutator) rename() (string, error) {
	p := pick(m.rng, m.others)
	d := pick(m.rng, m.dirs)
	if p == "" || d == p || strings.HasPrefix(d, p+"/") {
		return "", nil
	}
	to := m.g.fresh(d)
	return "rename " + m.rel(p) + " -> " + m.rel(to), wrap(os.Rename(p, to))
}

func (m *mutator) chmod() (string, error) {
	p := pick(m.rng, m.others)
	st, err := os.Lstat(p)
	if p == "" || err != nil || st.Mode()&fs.ModeSymlink != 0 {
		return "", nil
	}
	perm := randPerm(m.rng, st.IsDir())
	return fmt.Sprintf("chmod %s %04o", m.rel(p), perm), chmodPath(p, perm)
}

func (m *mutator) chown() (string, error) {
	p := pick(m.rng, m.others)
	if p == "" || !m.isRoot {
		return "", nil
	}
	u, g := randID(m.rng), randID(m.rng)
	return fmt.Sprintf("chown %s %d:%d", m.rel(p), u, g), wrap(os.Lchown(p, int(u), int(g)))
}

func (m *mutator) setXattr() (string, error) {
	p := pick(m.rng, append(append([]string{}, m.files...), m.dirs...))
	name, v := randXattr(m.rng)
	if p == "" || (!m.isRoot && !strings.HasPrefix(name, "user.")) {
		return "", nil
	}
	return "setxattr " + m.rel(p) + " " + name, setXattr(p, name, v)
}

func (m *mutator) removeXattr() (string, error) {
	p := pick(m.rng, m.others)
	if p == "" {
		return "", nil
	}
	x, err := readXattrs(p)
	if err != nil || len(x) == 0 {
		return "", err
	}
	var names []string
	for n := range x {
		names = append(names, n)
	}
	sortStrings(names)
	n := names[m.rng.IntN(len(names))]
	if err := unix.Lremovexattr(p, n); err != nil {
		return "", fmt.Errorf("ext4test: removexattr %s %s: %w", p, n, err)
	}
	return "removexattr " + m.rel(p) + " " + n, nil
}

func (m *mutator) setACL() (string, error) {
	name := aclAccess
	p := pick(m.rng, m.files)
	if m.rng.IntN(2) == 0 {
		p = pick(m.rng, m.dirs)
		if m.rng.IntN(2) == 0 {
			name = aclDefault
		}
	}
	if p == "" {
		return "", nil
	}
	return "setacl " + m.rel(p) + " " + name, setXattr(p, name, randACL(m.rng))
}

func (m *mutator) addHardLink() (string, error) {
	p := pick(m.rng, m.files)
	if p == "" {
		return "", nil
	}
	to := m.g.fresh(pick(m.rng, m.dirs))
	return "link " + m.rel(p) + " -> " + m.rel(to), wrap(os.Link(p, to))
}
