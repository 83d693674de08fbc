package xattr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func run(t *testing.T, okCodes []int, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	for _, c := range okCodes {
		if c == code {
			return out.String()
		}
	}
	t.Fatalf("%s %v: exit %d\n%s", name, args, code, out.String())
	return ""
}

func debugfs(t *testing.T, img, req string) string {
	t.Helper()
	return run(t, []int{0}, "debugfs", "-R", req, img)
}

// srcFile is one path of the fixture tree and the xattrs to set on it, in
// the order they are set.
type srcFile struct {
	path    string
	kind    tree.Kind
	content []byte
	attrs   []Attr
}

func capV2() []byte {
	b := make([]byte, 20) // struct vfs_cap_data, revision 2
	binary.LittleEndian.PutUint32(b[0:], 0x02000000|1)
	binary.LittleEndian.PutUint32(b[4:], 1<<10|1<<13) // cap_net_bind_service, cap_net_raw
	return b
}

// vfsACL builds a VFS-encoded ACL from (tag, perm, id) triples.
func vfsACL(entries ...[3]uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, aclVFSVersion)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(e[0]))
		b = binary.LittleEndian.AppendUint16(b, uint16(e[1]))
		b = binary.LittleEndian.AppendUint32(b, e[2])
	}
	return b
}

func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func fixtureFiles() []srcFile {
	const u = ACLUndefinedID
	access := vfsACL([3]uint32{aclUserObj, 7, u}, [3]uint32{aclUser, 4, 1000},
		[3]uint32{aclGroupObj, 5, u}, [3]uint32{aclGroup, 6, 2000},
		[3]uint32{aclMask, 7, u}, [3]uint32{aclOther, 4, u})
	def := vfsACL([3]uint32{aclUserObj, 7, u}, [3]uint32{aclUser, 5, 33},
		[3]uint32{aclGroupObj, 5, u}, [3]uint32{aclMask, 5, u}, [3]uint32{aclOther, 0, u})
	many := []Attr{}
	for i := 0; i < 8; i++ {
		many = append(many, Attr{Name: "user.k" + strconv.Itoa(i), Value: fill(40+i, byte(i))})
	}
	ima := append([]byte{0x04, 0x04}, fill(32, 9)...)
	return []srcFile{
		{path: "bin/ping", kind: tree.Regular, content: []byte("ping"), attrs: []Attr{
			{Name: "security.capability", Value: capV2()},
			{Name: "security.ima", Value: ima},
			{Name: "security.selinux", Value: []byte("system_u:object_r:ping_exec_t:s0\x00")},
		}},
		{path: "etc/acl", kind: tree.Regular, content: []byte("acl"), attrs: []Attr{
			{Name: NameACLAccess, Value: access},
			{Name: "trusted.t", Value: []byte("x")},
			{Name: "user.a", Value: []byte("hello")},
		}},
		{path: "etc/big", kind: tree.Regular, content: []byte("big"), attrs: []Attr{
			{Name: "user.big", Value: fill(700, 3)},
			{Name: "user.small", Value: []byte("s")},
		}},
		{path: "etc/many", kind: tree.Regular, content: nil, attrs: many},
		{path: "share", kind: tree.Dir, attrs: []Attr{
			{Name: NameACLAccess, Value: access},
			{Name: NameACLDefault, Value: def},
			{Name: "user.empty", Value: []byte{}},
		}},
		// Set out of name order: user.z fills the body first, so user.a,
		// though it sorts first, goes to the block.
		{path: "etc/order", kind: tree.Regular, content: []byte("o"), attrs: []Attr{
			{Name: "user.z", Value: fill(40, 5)},
			{Name: "user.a", Value: fill(40, 6)},
		}},
		{path: "link", kind: tree.Symlink, content: []byte("etc/acl"), attrs: []Attr{
			{Name: "trusted.sym", Value: []byte("on a symlink")},
		}},
	}
}

// buildSource writes the fixture tree and returns, per path, the xattrs in
// the source's listxattr order (what mke2fs -d copies, in its order).
func buildSource(t *testing.T, dir string, files []srcFile) map[string][]Attr {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("setting trusted.* and security.* xattrs needs root")
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch f.kind {
		case tree.Regular:
			err = os.WriteFile(p, f.content, 0o644)
		case tree.Dir:
			err = os.Mkdir(p, 0o755)
		case tree.Symlink:
			err = os.Symlink(string(f.content), p)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range f.attrs {
			if err := unix.Lsetxattr(p, x.Name, x.Value, 0); err != nil {
				if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
					t.Skipf("%s does not support %s: %v", dir, x.Name, err)
				}
				t.Fatalf("setxattr %s %s: %v", p, x.Name, err)
			}
		}
	}
	got := map[string][]Attr{}
	for _, f := range files {
		got[f.path] = listXattrs(t, filepath.Join(dir, f.path))
	}
	return got
}

func listXattrs(t *testing.T, p string) []Attr {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		t.Fatalf("listxattr %s: %v", p, err)
	}
	var out []Attr
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		v := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			t.Fatalf("getxattr %s %s: %v", p, name, err)
		}
		out = append(out, Attr{Name: name, Value: append([]byte{}, v[:m]...)})
	}
	return out
}

// image is an ext4 image built by mkfs.ext4 -d, with what the tests need
// from its superblock.
type image struct {
	path      string
	blockSize int
	inodeSize int
	csum      bool
	fsSeed    uint32
	data      []byte
}

func mkfs(t *testing.T, src string, blockSize int) *image {
	t.Helper()
	img := filepath.Join(t.TempDir(), "fs.img")
	run(t, []int{0}, "mkfs.ext4", "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file",
		"-b", strconv.Itoa(blockSize), "-d", src, img, "8M")
	run(t, []int{0, 1}, "fsck.ext4", "-pfD", img)
	return loadImage(t, img)
}

// Superblock fields the tests read (offsets inside the superblock).
const (
	sbOffset       = 1024
	sbLogBlockSize = 0x18
	sbInodeSize    = 0x58
	sbIncompat     = 0x60
	sbROCompat     = 0x64
	sbUUID         = 0x68
	sbChecksumSeed = 0x270
	roMetadataCsum = 0x400
	incCsumSeed    = 0x2000
)

func loadImage(t *testing.T, path string) *image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sb := data[sbOffset:]
	im := &image{path: path, data: data,
		blockSize: 1024 << binary.LittleEndian.Uint32(sb[sbLogBlockSize:]),
		inodeSize: int(binary.LittleEndian.Uint16(sb[sbInodeSize:])),
		csum:      binary.LittleEndian.Uint32(sb[sbROCompat:])&roMetadataCsum != 0,
	}
	if binary.LittleEndian.Uint32(sb[sbIncompat:])&incCsumSeed != 0 {
		im.fsSeed = binary.LittleEndian.Uint32(sb[sbChecksumSeed:])
	} else {
		var uuid [16]byte
		copy(uuid[:], sb[sbUUID:])
		im.fsSeed = disk.FSSeed(uuid)
	}
	return im
}

var (
	reIno   = regexp.MustCompile(`Inode: (\d+) `)
	reACL   = regexp.MustCompile(`File ACL: (\d+)`)
	reImap  = regexp.MustCompile(`located at block (\d+), offset (0x[0-9a-f]+)`)
	reGener = regexp.MustCompile(`Generation: (\d+)`)
)

// inodeInfo locates a path's inode and xattr block in the image.
type inodeInfo struct {
	ino, gen uint32
	off      int64 // byte offset of the raw inode in the image
	acl      uint64
}

func locate(t *testing.T, im *image, path string) inodeInfo {
	t.Helper()
	st := debugfs(t, im.path, "stat /"+path)
	m, a, g := reIno.FindStringSubmatch(st), reACL.FindStringSubmatch(st), reGener.FindStringSubmatch(st)
	if m == nil || a == nil || g == nil {
		t.Fatalf("debugfs stat /%s: unexpected output:\n%s", path, st)
	}
	ino, _ := strconv.ParseUint(m[1], 10, 32)
	acl, _ := strconv.ParseUint(a[1], 10, 64)
	gen, _ := strconv.ParseUint(g[1], 10, 32)
	im2 := reImap.FindStringSubmatch(debugfs(t, im.path, "imap /"+path))
	if im2 == nil {
		t.Fatalf("debugfs imap /%s: no location", path)
	}
	blk, _ := strconv.ParseInt(im2[1], 10, 64)
	off, _ := strconv.ParseInt(im2[2], 0, 64)
	return inodeInfo{ino: uint32(ino), gen: uint32(gen), off: blk*int64(im.blockSize) + off, acl: acl}
}

func (im *image) inode(in inodeInfo) []byte {
	return im.data[in.off : in.off+int64(im.inodeSize)]
}

func (im *image) block(blk uint64) []byte {
	o := int64(blk) * int64(im.blockSize)
	return im.data[o : o+int64(im.blockSize)]
}

// Inode checksum fields.
const (
	inoChecksumLo = 0x7C
	inoChecksumHi = 0x82
	inoGeneration = 0x64
)

// setInodeChecksum recomputes a 256-byte inode's metadata_csum: crc32c of
// the inode seed over the inode with both checksum halves zeroed.
func setInodeChecksum(raw []byte, ino, gen, fsSeed uint32) {
	binary.LittleEndian.PutUint16(raw[inoChecksumLo:], 0)
	binary.LittleEndian.PutUint16(raw[inoChecksumHi:], 0)
	c := disk.Crc32c(disk.InodeSeed(fsSeed, ino, gen), raw)
	binary.LittleEndian.PutUint16(raw[inoChecksumLo:], uint16(c))
	binary.LittleEndian.PutUint16(raw[inoChecksumHi:], uint16(c>>16))
}
