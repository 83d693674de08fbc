package ext4test

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// GenOptions shape a random tree. Counts are exact; DefaultGenOptions
// gives a small rootfs-like mix with every kind of node.
type GenOptions struct {
	Dirs      int // directories besides the root
	Files     int // regular files
	MaxSize   int // largest regular file in bytes
	Symlinks  int // most fast (<60 bytes), the rest up to MaxTarget
	MaxTarget int // longest symlink target; 0 means 4000; keep < block size
	HardLinks int // extra names for existing regular files
	Sparse    int // sparse files with holes at start, middle or end
	Specials  int // char/block devices, FIFOs and sockets (devices need root)
	BigDir    int // entries of one extra directory (3000 gives an htree)
	DeepPath  int // depth of one extra chain of directories
	Xattrs    bool
	ACLs      bool
	Owners    bool // random uid/gid up to 2^32-2 (needs root)
}

// DefaultGenOptions is a modest tree (~1-3 MiB) that fits a 64 MiB image.
func DefaultGenOptions() GenOptions {
	return GenOptions{Dirs: 20, Files: 120, MaxSize: 128 << 10, Symlinks: 25, HardLinks: 8,
		Sparse: 4, Specials: 8, DeepPath: 24, Xattrs: true, ACLs: true, Owners: true}
}

// maxDirDepth keeps ordinary generated directories shallow.
const maxDirDepth = 6

// GenTree fills dir (which must exist, and should be empty) with a random
// tree that depends only on rng's state and o.
func GenTree(rng *rand.Rand, dir string, o GenOptions) error {
	root := os.Geteuid() == 0
	g := &gen{rng: rng, root: dir}
	dirs := []string{dir}
	for i := 0; i < o.Dirs; i++ {
		parent := dirs[rng.IntN(len(dirs))]
		if strings.Count(relPath(dir, parent), "/") >= maxDirDepth {
			parent = dir
		}
		p, err := g.mkdir(parent)
		if err != nil {
			return err
		}
		dirs = append(dirs, p)
	}
	if o.DeepPath > 0 {
		p := dirs[rng.IntN(len(dirs))]
		for i := 0; i < o.DeepPath; i++ {
			var err error
			if p, err = g.mkdir(p); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(p, "deep-file"), randContent(rng, 100), 0o644); err != nil {
			return fmt.Errorf("ext4test: %w", err)
		}
	}
	if o.BigDir > 0 {
		big, err := g.mkdir(dir)
		if err != nil {
			return err
		}
		for i := 0; i < o.BigDir; i++ {
			name := fmt.Sprintf("%s-%d", randName(rng, 30), i)
			if err := os.WriteFile(filepath.Join(big, name), randBytes(rng, rng.IntN(64)), 0o644); err != nil {
				return fmt.Errorf("ext4test: %w", err)
			}
		}
	}
	var files []string
	for i := 0; i < o.Files; i++ {
		p, err := g.file(dirs[rng.IntN(len(dirs))], randSize(rng, o.MaxSize))
		if err != nil {
			return err
		}
		files = append(files, p)
	}
	for i := 0; i < o.Sparse; i++ {
		p := g.fresh(dirs[rng.IntN(len(dirs))])
		if err := writeSparse(rng, p, int64(4+rng.IntN(60))*4096); err != nil {
			return err
		}
		files = append(files, p)
	}
	for i := 0; i < o.HardLinks && len(files) > 0; i++ {
		if err := os.Link(files[rng.IntN(len(files))], g.fresh(dirs[rng.IntN(len(dirs))])); err != nil {
			return fmt.Errorf("ext4test: link: %w", err)
		}
	}
	for i := 0; i < o.Symlinks; i++ {
		if err := os.Symlink(randTarget(rng, o.MaxTarget), g.fresh(dirs[rng.IntN(len(dirs))])); err != nil {
			return fmt.Errorf("ext4test: symlink: %w", err)
		}
	}
	for i := 0; i < o.Specials; i++ {
		if err := g.special(dirs[rng.IntN(len(dirs))], root); err != nil {
			return err
		}
	}
	if err := g.metadata(o, root); err != nil {
		return err
	}
	return fixTimes(rng, dir, false)
}

// gen holds the generator's state.
type gen struct {
	rng  *rand.Rand
	root string
}

// maxNameTries bounds the search for an unused random name; after it a
// counter suffix makes the name unique.
const maxNameTries = 64

// fresh returns an unused path in parent.
func (g *gen) fresh(parent string) string {
	var p string
	for i := 0; ; i++ {
		p = filepath.Join(parent, randName(g.rng, 24))
		if i >= maxNameTries {
			p = fmt.Sprintf("%s-%d", p, i)
		}
		if _, err := os.Lstat(p); os.IsNotExist(err) || i > 2*maxNameTries {
			return p
		}
	}
}

func (g *gen) mkdir(parent string) (string, error) {
	p := g.fresh(parent)
	if err := os.Mkdir(p, 0o755); err != nil {
		return "", fmt.Errorf("ext4test: mkdir: %w", err)
	}
	return p, nil
}

func (g *gen) file(parent string, size int) (string, error) {
	p := g.fresh(parent)
	if err := os.WriteFile(p, randContent(g.rng, size), 0o644); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return p, nil
}

// special makes a device (root only), FIFO or socket.
func (g *gen) special(parent string, root bool) error {
	p := g.fresh(parent)
	k := g.rng.IntN(4)
	if !root && k < 2 {
		k = 2 + g.rng.IntN(2)
	}
	majors := []uint32{1, 4, 8, 136, 259, 4095}
	major := majors[g.rng.IntN(len(majors))]
	minor := uint32(g.rng.IntN(256))
	if g.rng.IntN(3) == 0 {
		minor = uint32(g.rng.IntN(1 << 20)) // needs the new (large) encoding
	}
	switch k {
	case 0:
		return mknod(p, unix.S_IFCHR|0o620, major, minor)
	case 1:
		return mknod(p, unix.S_IFBLK|0o660, major, minor)
	case 2:
		return mknod(p, unix.S_IFIFO|0o644, 0, 0)
	}
	return bindSocket(p)
}

// metadata sets owners, ACLs, permission bits and xattrs on every path,
// in an order that keeps each step from undoing another (chown clears
// setuid/setgid and capabilities; chmod rewrites the ACL mask).
func (g *gen) metadata(o GenOptions, root bool) error {
	paths, err := sortedPaths(g.root)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := g.meta(p, o, root); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) meta(p string, o GenOptions, root bool) error {
	rng := g.rng
	st, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("ext4test: %w", err)
	}
	m := st.Mode()
	isDir, isLink := m.IsDir(), m&fs.ModeSymlink != 0
	plain := m.IsRegular() || isDir
	if o.Owners && root && p != g.root {
		if err := os.Lchown(p, int(randID(rng)), int(randID(rng))); err != nil {
			return fmt.Errorf("ext4test: chown: %w", err)
		}
	}
	if o.ACLs && plain && rng.IntN(6) == 0 {
		if err := setXattr(p, aclAccess, randACL(rng)); err != nil {
			return err
		}
	}
	if !isLink && p != g.root && rng.IntN(2) == 0 {
		if err := chmodPath(p, randPerm(rng, isDir)); err != nil {
			return err
		}
	}
	if o.ACLs && isDir && rng.IntN(8) == 0 {
		if err := setXattr(p, aclDefault, randACL(rng)); err != nil {
			return err
		}
	}
	if o.Xattrs && rng.IntN(4) == 0 {
		for n := 1 + rng.IntN(3); n > 0; n-- {
			name, v := randXattr(rng)
			if !root && !strings.HasPrefix(name, "user.") {
				continue
			}
			// user.* is only allowed on regular files and directories.
			if strings.HasPrefix(name, "user.") && !plain {
				continue
			}
			if err := setXattr(p, name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortedPaths lists every path under root (root included), sorted.
func sortedPaths(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ext4test: walk %s: %w", root, err)
	}
	sort.Strings(out)
	return out, nil
}

// fixTimes gives paths random times, children before parents. With
// onlyTouched it only fixes paths whose mtime the OS just set (after
// touchedAfter), which keeps Mutate deterministic.
func fixTimes(rng *rand.Rand, root string, onlyTouched bool) error {
	paths, err := sortedPaths(root)
	if err != nil {
		return err
	}
	for i := len(paths) - 1; i >= 0; i-- {
		p := paths[i]
		if onlyTouched {
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				return fmt.Errorf("ext4test: lstat %s: %w", p, err)
			}
			if st.Mtim.Sec < touchedAfter {
				continue
			}
		}
		if err := setTimes(rng, p); err != nil {
			return err
		}
	}
	return nil
}
