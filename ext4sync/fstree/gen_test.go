package fstree_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// genTree fills dir with a deterministic rootfs-like tree holding every kind
// of node: nested directories, files of many sizes (some sparse, some with
// zero blocks), fast and slow symlinks, hard links, devices with old and new
// encodings, FIFOs, owners, xattrs (small and block-sized), POSIX ACLs and
// one directory big enough to be indexed. maxTarget bounds symlink targets.
func genTree(rng *rand.Rand, dir string, maxTarget int) error {
	g := &gen{rng: rng, root: dir}
	dirs := []string{""}
	for k := 0; k < 15; k++ {
		p := join(dirs[rng.IntN(len(dirs))], fmt.Sprintf("d%02d", k))
		g.do(os.Mkdir(g.full(p), 0o755))
		g.meta(p, true)
		dirs = append(dirs, p)
	}
	var files []string
	for k := 0; k < 80; k++ {
		p := join(dirs[rng.IntN(len(dirs))], fmt.Sprintf("f%03d", k))
		g.do(os.WriteFile(g.full(p), g.content(), 0o644))
		g.meta(p, false)
		files = append(files, p)
	}
	for k := 0; k < 6; k++ {
		p := join(dirs[rng.IntN(len(dirs))], fmt.Sprintf("sparse%d", k))
		g.sparse(p)
		files = append(files, p)
	}
	for k := 0; k < 20; k++ {
		p := join(dirs[rng.IntN(len(dirs))], fmt.Sprintf("l%02d", k))
		n := 1 + rng.IntN(50)
		if k%3 == 0 {
			n = 60 + rng.IntN(maxTarget-60)
		}
		target := strings.Repeat("x/", n)[:n]
		g.do(os.Symlink(target, g.full(p)))
		g.do(os.Lchown(g.full(p), rng.IntN(5000), rng.IntN(5000)))
		g.times(p)
	}
	for k := 0; k < 6; k++ {
		src := files[rng.IntN(len(files))]
		p := join(dirs[rng.IntN(len(dirs))], fmt.Sprintf("h%d", k))
		g.do(os.Link(g.full(src), g.full(p)))
	}
	devs := []struct {
		mode         uint32
		major, minor uint32
	}{{unix.S_IFCHR, 1, 3}, {unix.S_IFBLK, 8, 1}, {unix.S_IFCHR, 300, 70000}, {unix.S_IFBLK, 4095, 1 << 19}, {unix.S_IFIFO, 0, 0}}
	for k, d := range devs {
		p := join(dirs[rng.IntN(len(dirs))], fmt.Sprintf("dev%d", k))
		g.do(unix.Mknod(g.full(p), d.mode|0o600, int(unix.Mkdev(d.major, d.minor))))
		g.special(p)
	}
	g.do(os.Mkdir(g.full("big"), 0o755))
	for k := 0; k < 300; k++ {
		g.do(os.WriteFile(g.full(fmt.Sprintf("big/entry-with-a-long-name-%04d", k)), nil, 0o644))
	}
	g.meta("big", true)
	return g.err
}

type gen struct {
	rng  *rand.Rand
	root string
	err  error
}

func (g *gen) do(err error) {
	if g.err == nil && err != nil {
		g.err = err
	}
}

func (g *gen) full(p string) string { return filepath.Join(g.root, p) }

// content is a random file body: empty, small, or several blocks, some
// with all-zero blocks inside.
func (g *gen) content() []byte {
	var n int
	switch g.rng.IntN(4) {
	case 0:
		n = 0
	case 1:
		n = g.rng.IntN(100)
	default:
		n = g.rng.IntN(64 << 10)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	if n > 16<<10 && g.rng.IntN(2) == 0 {
		clear(b[4096 : 12<<10])
	}
	return b
}

// sparse writes a file with holes at the start, middle and end.
func (g *gen) sparse(p string) {
	f, err := os.Create(g.full(p))
	if err != nil {
		g.do(err)
		return
	}
	defer f.Close()
	data := bytes.Repeat([]byte{0xA5}, 5000)
	_, err = f.WriteAt(data, 40<<10)
	g.do(err)
	g.do(f.Truncate(200 << 10))
	g.meta(p, false)
}

// meta gives p random permissions, owners, xattrs and (sometimes) ACLs.
func (g *gen) meta(p string, dir bool) {
	full := g.full(p)
	g.do(os.Lchown(full, g.rng.IntN(70000), g.rng.IntN(70000)))
	perm := uint32(g.rng.IntN(0o7777 + 1))
	if dir {
		perm |= 0o700
	}
	g.do(unix.Chmod(full, perm))
	if g.rng.IntN(3) == 0 {
		g.do(unix.Lsetxattr(full, "user.small", []byte("v"), 0))
	}
	if g.rng.IntN(6) == 0 {
		g.do(unix.Lsetxattr(full, "user.big", bytes.Repeat([]byte("B"), 300+g.rng.IntN(400)), 0))
	}
	if g.rng.IntN(5) == 0 {
		g.do(unix.Lsetxattr(full, "security.capability", []byte{1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0))
	}
	if g.rng.IntN(5) == 0 {
		g.do(unix.Lsetxattr(full, "system.posix_acl_access", acl(uint32(1000+g.rng.IntN(100))), 0))
		if dir {
			g.do(unix.Lsetxattr(full, "system.posix_acl_default", acl(uint32(2000+g.rng.IntN(100))), 0))
		}
	}
	g.times(p)
}

// special gives a device or FIFO owners, permissions and a trusted xattr
// (user xattrs are not allowed on special files).
func (g *gen) special(p string) {
	full := g.full(p)
	g.do(os.Lchown(full, g.rng.IntN(70000), g.rng.IntN(70000)))
	g.do(unix.Chmod(full, uint32(g.rng.IntN(0o777+1))))
	g.do(unix.Lsetxattr(full, "trusted.dev", []byte("d"), 0))
	g.times(p)
}

// times sets a random mtime with nanoseconds.
func (g *gen) times(p string) {
	ts := unix.Timespec{Sec: 1e9 + g.rng.Int64N(1e9), Nsec: g.rng.Int64N(1e9)}
	g.do(unix.UtimesNanoAt(unix.AT_FDCWD, g.full(p), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
}

// acl is a VFS-encoded POSIX ACL with one named user.
func acl(uid uint32) []byte {
	const undef = 0xFFFFFFFF
	ents := []struct {
		tag, perm uint16
		id        uint32
	}{{0x01, 7, undef}, {0x02, 6, uid}, {0x04, 5, undef}, {0x10, 7, undef}, {0x20, 4, undef}}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(2))
	for _, e := range ents {
		binary.Write(&b, binary.LittleEndian, e)
	}
	return b.Bytes()
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
