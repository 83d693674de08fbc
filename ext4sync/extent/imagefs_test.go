package extent

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// Superblock and inode fields the image tests read (offsets per the
// kernel's Documentation/filesystems/ext4).
const (
	sbOffset          = 1024
	sbBlocksCountLo   = 0x4
	sbFirstDataBlock  = 0x14
	sbLogBlockSize    = 0x18
	sbBlocksPerGroup  = 0x20
	sbInodeSize       = 0x58
	sbFeatureIncompat = 0x60
	sbFeatureRoCompat = 0x64
	sbUUID            = 0x68
	sbBlocksCountHi   = 0x150
	sbChecksumSeed    = 0x270
	incompat64bit     = 0x80
	incompatCsumSeed  = 0x2000
	roCompatCsum      = 0x400

	inoSizeLo     = 0x4
	inoBlocksLo   = 0x1C
	inoBlock      = 0x28
	inoGeneration = 0x64
	inoSizeHi     = 0x6C
	inoBlocksHi   = 0x74
	inoCsumLo     = 0x7C
	inoExtraIsize = 0x80
	inoCsumHi     = 0x82
	goodOldInode  = 128
	sectorSize    = 512
)

// run runs a tool and returns its stdout and exit code.
func run(t testing.TB, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String() + errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out.String(), 0
}

func debugfs(t testing.TB, img, req string) string {
	t.Helper()
	out, code := run(t, "debugfs", "-R", req, img)
	if code != 0 {
		t.Fatalf("debugfs -R %q: exit %d: %s", req, code, out)
	}
	return out
}

// fixture layout: many 1-block files, every other one deleted, then files
// written into the holes so they get one extent per block.
type fixtureSpec struct {
	bs      int
	files   int
	mid     int // blocks of /mid
	big     int // blocks of /big
	no64bit bool
}

var (
	fixtureMu    sync.Mutex
	fixtureCache = map[fixtureSpec]string{}
	fixtureDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "extent-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture returns a private copy of the image for spec.
func fixture(t testing.TB, spec fixtureSpec) string {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "debugfs", "e2fsck")
	fixtureMu.Lock()
	base, ok := fixtureCache[spec]
	if !ok {
		base = makeFixture(t, spec)
		fixtureCache[spec] = base
	}
	fixtureMu.Unlock()
	img := filepath.Join(t.TempDir(), "img")
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

func makeFixture(t testing.TB, spec fixtureSpec) string {
	dir, err := os.MkdirTemp(fixtureDir, "fx-")
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	block := bytes.Repeat([]byte("x"), spec.bs)
	for i := range spec.files {
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%05d", i)), block, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "small"), bytes.Repeat([]byte("s"), 3*spec.bs), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "img")
	feats := "metadata_csum_seed,orphan_file"
	if spec.no64bit {
		feats += ",^64bit"
	}
	size := fmt.Sprintf("%dk", (spec.files*3+spec.mid+spec.big)*spec.bs/1024+8192)
	if out, code := run(t, "mkfs.ext4", "-q", "-F", "-i", "4096", "-O", feats, "-b", strconv.Itoa(spec.bs), "-d", tree, img, size); code != 0 {
		t.Fatalf("mkfs.ext4: %d %s", code, out)
	}
	if out, code := run(t, "fsck.ext4", "-pfD", img); code > 1 {
		t.Fatalf("fsck.ext4 -pfD: %d %s", code, out)
	}
	var cmds strings.Builder
	for i := 0; i < spec.files; i += 2 {
		fmt.Fprintf(&cmds, "rm /f%05d\n", i)
	}
	for _, f := range []struct {
		name   string
		blocks int
	}{{"mid", spec.mid}, {"big", spec.big}} {
		src := filepath.Join(dir, f.name)
		if err := os.WriteFile(src, bytes.Repeat([]byte(f.name[:1]), f.blocks*spec.bs), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cmds, "write %s /%s\n", src, f.name)
	}
	cmdFile := filepath.Join(dir, "cmds")
	if err := os.WriteFile(cmdFile, []byte(cmds.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, "debugfs", "-w", "-f", cmdFile, img); code != 0 {
		t.Fatalf("debugfs -w: %d %s", code, out)
	}
	if out, code := run(t, "e2fsck", "-fn", img); code != 0 {
		t.Fatalf("fixture fails e2fsck: %d %s", code, out)
	}
	return img
}

// image is an ext4 image file opened as a Store.
type image struct {
	f           *os.File
	bs          int
	opt         Options // Ino and Seed are per inode
	fsSeed      uint32
	inodeSize   int
	path        string
	inoLocation map[uint32]int64
}

func openImage(t testing.TB, path string) *image {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, sbOffset); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	im := &image{f: f, path: path, bs: 1024 << le.Uint32(sb[sbLogBlockSize:]), inodeSize: int(le.Uint16(sb[sbInodeSize:])), inoLocation: map[uint32]int64{}}
	im.opt.FirstDataBlock = uint64(le.Uint32(sb[sbFirstDataBlock:]))
	im.opt.BlocksCount = uint64(le.Uint32(sb[sbBlocksCountLo:]))
	if le.Uint32(sb[sbFeatureIncompat:])&incompat64bit != 0 {
		im.opt.BlocksCount |= uint64(le.Uint32(sb[sbBlocksCountHi:])) << 32
	}
	im.opt.Csum = le.Uint32(sb[sbFeatureRoCompat:])&roCompatCsum != 0
	if le.Uint32(sb[sbFeatureIncompat:])&incompatCsumSeed != 0 {
		im.fsSeed = le.Uint32(sb[sbChecksumSeed:])
	} else {
		im.fsSeed = disk.FSSeed([16]byte(sb[sbUUID : sbUUID+16]))
	}
	return im
}

func (im *image) BlockSize() int { return im.bs }

func (im *image) ReadBlock(blk uint64) ([]byte, error) {
	b := make([]byte, im.bs)
	_, err := im.f.ReadAt(b, int64(blk)*int64(im.bs))
	if err == io.EOF {
		err = nil
	}
	return b, err
}

func (im *image) WriteBlock(blk uint64, b []byte) error {
	_, err := im.f.WriteAt(b, int64(blk)*int64(im.bs))
	return err
}

var imapRE = regexp.MustCompile(`Inode (\d+) is part of block group \d+\s+located at block (\d+), offset 0x([0-9a-f]+)`)

// inode returns the inode number of path, its raw bytes and the options
// to read its tree.
func (im *image) inode(t testing.TB, path string) (uint32, []byte, Options) {
	t.Helper()
	m := imapRE.FindStringSubmatch(debugfs(t, im.path, "imap "+path))
	if m == nil {
		t.Fatalf("imap %s: no location", path)
	}
	ino, _ := strconv.ParseUint(m[1], 10, 32)
	blk, _ := strconv.ParseInt(m[2], 10, 64)
	off, _ := strconv.ParseInt(m[3], 16, 64)
	im.inoLocation[uint32(ino)] = blk*int64(im.bs) + off
	raw := make([]byte, im.inodeSize)
	if _, err := im.f.ReadAt(raw, im.inoLocation[uint32(ino)]); err != nil {
		t.Fatal(err)
	}
	opt := im.opt
	opt.Ino = uint32(ino)
	opt.Seed = disk.InodeSeed(im.fsSeed, uint32(ino), binary.LittleEndian.Uint32(raw[inoGeneration:]))
	return uint32(ino), raw, opt
}

// writeInode stores raw with a fresh inode checksum.
func (im *image) writeInode(t testing.TB, ino uint32, raw []byte, seed uint32) {
	t.Helper()
	le := binary.LittleEndian
	hasHi := len(raw) > goodOldInode && goodOldInode+int(le.Uint16(raw[inoExtraIsize:])) >= inoCsumHi+2
	le.PutUint16(raw[inoCsumLo:], 0)
	if hasHi {
		le.PutUint16(raw[inoCsumHi:], 0)
	}
	if im.opt.Csum {
		c := disk.Crc32c(seed, raw)
		le.PutUint16(raw[inoCsumLo:], uint16(c))
		if hasHi {
			le.PutUint16(raw[inoCsumHi:], uint16(c>>16))
		}
	}
	if _, err := im.f.WriteAt(raw, im.inoLocation[ino]); err != nil {
		t.Fatal(err)
	}
}

var exLeafRE = regexp.MustCompile(`^\s*(\d+)/\s*(\d+)\s+\d+/\s*\d+\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s*(Uninit)?\s*$`)

// debugfsExtents parses `debugfs -R 'ex PATH'`: the leaf extents and the
// tree depth.
func debugfsExtents(t testing.TB, img, path string) ([]Mapping, int) {
	t.Helper()
	var out []Mapping
	depth := 0
	for _, line := range strings.Split(debugfs(t, img, "ex "+path), "\n") {
		m := exLeafRE.FindStringSubmatch(line)
		if m == nil || m[1] != m[2] {
			continue
		}
		depth, _ = strconv.Atoi(m[2])
		l, _ := strconv.ParseUint(m[3], 10, 32)
		p, _ := strconv.ParseUint(m[5], 10, 64)
		n, _ := strconv.ParseUint(m[7], 10, 32)
		out = append(out, Mapping{Logical: uint32(l), Physical: p, Len: uint32(n), Uninit: m[8] != ""})
	}
	return out, depth
}

var etbRE = regexp.MustCompile(`\(ETB\d+\):(\d+)`)

// debugfsNodes lists the extent tree blocks `debugfs -R 'stat PATH'` shows.
func debugfsNodes(t testing.TB, img, path string) []uint64 {
	t.Helper()
	var out []uint64
	for _, m := range etbRE.FindAllStringSubmatch(debugfs(t, img, "stat "+path), -1) {
		b, _ := strconv.ParseUint(m[1], 10, 64)
		out = append(out, b)
	}
	return out
}

func e2fsckClean(t testing.TB, img string) {
	t.Helper()
	if out, code := run(t, "e2fsck", "-fn", img); code != 0 {
		t.Fatalf("e2fsck -fn: exit %d\n%s", code, out)
	}
}
