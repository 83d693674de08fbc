package file_test

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// t0 is the whole-second mtime every fixture path gets (mkfs -d drops
// nanoseconds), so the source directory stays comparable after edits.
const t0 = 1600000000

// variant is one fixture layout.
type variant struct {
	name    string
	bs      int
	no64bit bool
}

var variants = []variant{{"1k", 1024, false}, {"4k", 4096, false}, {"4k-32bit", 4096, true}}

// fixture is a mkfs'ed image opened through an overlay, with the source
// directory it was built from, which tests edit alongside the image.
type fixture struct {
	t   *testing.T
	v   variant
	src string
	img string
	dev *overlay.Device
	f   *fs.FS
}

// forVariants runs fn for each block-size variant.
func forVariants(t *testing.T, fn func(t *testing.T, v variant)) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			fn(t, v)
		})
	}
}

// newFixture builds an image from a source tree made by populate.
func newFixture(t *testing.T, v variant, populate func(x *fixture)) *fixture {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	x := &fixture{t: t, v: v, src: t.TempDir()}
	if populate != nil {
		populate(x)
	}
	x.resetTimes()
	x.img = ext4test.BuildImage(t, x.src, ext4test.ImageOptions{BlockSize: v.bs, No64bit: v.no64bit, Size: 16 << 20, NormalizeTimes: true})
	dev, err := overlay.Open(x.img, overlay.Options{BlockSize: v.bs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	x.dev = dev
	x.f, err = fs.Open(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// write creates a regular file in the source tree.
func (x *fixture) write(p string, b []byte) {
	x.t.Helper()
	full := filepath.Join(x.src, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		x.t.Fatal(err)
	}
	if err := os.WriteFile(full, b, 0o644); err != nil {
		x.t.Fatal(err)
	}
}

// setXattr sets an xattr in the source tree.
func (x *fixture) setXattr(p, name string, v []byte) {
	x.t.Helper()
	if err := unix.Lsetxattr(filepath.Join(x.src, p), name, v, 0); err != nil {
		x.t.Fatal(err)
	}
}

// resetTimes gives every source path mtime and atime t0.
func (x *fixture) resetTimes() {
	x.t.Helper()
	ts := []unix.Timespec{{Sec: t0}, {Sec: t0}}
	err := filepath.Walk(x.src, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		x.t.Fatal(err)
	}
}

// ino resolves a path in the image.
func (x *fixture) ino(p string) uint32 {
	x.t.Helper()
	ino := uint32(disk.RootIno)
	if p == "" {
		return ino
	}
	for _, name := range strings.Split(p, "/") {
		d := x.load(ino)
		h, err := d.Dir()
		if err != nil {
			x.t.Fatal(err)
		}
		e, ok, err := h.Lookup(name)
		if err != nil || !ok {
			x.t.Fatalf("lookup %q in %s: ok=%v err=%v", name, p, ok, err)
		}
		ino = e.Inode
	}
	return ino
}

func (x *fixture) load(ino uint32) *file.Inode {
	x.t.Helper()
	in, err := file.Load(x.f, ino)
	if err != nil {
		x.t.Fatal(err)
	}
	return in
}

// open loads the inode at path p.
func (x *fixture) open(p string) *file.Inode { return x.load(x.ino(p)) }

func (x *fixture) save(in *file.Inode) {
	x.t.Helper()
	if err := in.Save(); err != nil {
		x.t.Fatal(err)
	}
}

// finish flushes, writes the result image and runs e2fsck -fn on it.
func (x *fixture) finish() string {
	x.t.Helper()
	if err := x.f.Flush(); err != nil {
		x.t.Fatal(err)
	}
	out := filepath.Join(x.t.TempDir(), "out.img")
	if err := x.dev.WriteFile(out); err != nil {
		x.t.Fatal(err)
	}
	ext4test.Fsck(x.t, out)
	return out
}

// check finishes and compares the image with the (edited) source tree
// through debugfs, go-ext4 and (when it can mount) the kernel: every
// field, times equal to mtime.
func (x *fixture) check() string {
	x.t.Helper()
	x.resetTimes()
	out := x.finish()
	ext4test.CheckImageWith(x.t, out, x.src, ext4test.CheckOptions{Compare: ext4test.CompareOptions{
		LostFound: true, Times: ext4test.TimesEqualMtime,
		IgnoreAt: map[string]ext4test.Field{"": ext4test.FieldMtime | ext4test.FieldMtimeNs},
	}})
	return out
}

// node is the tree.Node a source path should have (mtime t0).
func node(kind tree.Kind, mode uint32) *tree.Node {
	return &tree.Node{Kind: kind, Mode: mode, Mtime: tree.Time{Sec: t0}}
}

// randBytes returns n bytes that are never a whole zero block.
func randBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	for i := 0; i < n; i += 512 {
		b[i] |= 1
	}
	return b
}

// aclVFS encodes a POSIX ACL in the VFS (posix_acl_xattr) form: owner rw,
// named user uid rw, group r, mask rw, other r.
func aclVFS(uid uint32) []byte {
	const (
		version = 2
		userObj = 0x01
		user    = 0x02
		group   = 0x04
		mask    = 0x10
		other   = 0x20
		undef   = 0xFFFFFFFF
	)
	ents := []struct {
		tag, perm uint16
		id        uint32
	}{{userObj, 6, undef}, {user, 6, uid}, {group, 4, undef}, {mask, 6, undef}, {other, 4, undef}}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(version))
	for _, e := range ents {
		binary.Write(&b, binary.LittleEndian, e)
	}
	return b.Bytes()
}

// removeSrc removes p from the source tree.
func removeSrc(t *testing.T, x *fixture, p string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(x.src, p)); err != nil {
		t.Fatal(err)
	}
}
