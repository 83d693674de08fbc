package dir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// memFile is a directory held in memory; max bounds AppendBlock (0: none).
type memFile struct {
	bs     int
	blocks [][]byte
	max    int
	writes int
}

func (m *memFile) Blocks() uint32 { return uint32(len(m.blocks)) }

func (m *memFile) ReadBlock(l uint32) ([]byte, error) {
	if int(l) >= len(m.blocks) {
		return nil, fmt.Errorf("memfile: block %d out of range", l)
	}
	return append([]byte(nil), m.blocks[l]...), nil
}

func (m *memFile) WriteBlock(l uint32, b []byte) error {
	if int(l) >= len(m.blocks) || len(b) != m.bs {
		return fmt.Errorf("memfile: bad write of block %d (%d bytes)", l, len(b))
	}
	m.writes++
	m.blocks[l] = append([]byte(nil), b...)
	return nil
}

func (m *memFile) AppendBlock() (uint32, error) {
	if m.max > 0 && len(m.blocks) >= m.max {
		return 0, errors.New("memfile: no space")
	}
	m.blocks = append(m.blocks, make([]byte, m.bs))
	return uint32(len(m.blocks) - 1), nil
}

func (m *memFile) clone() *memFile {
	c := &memFile{bs: m.bs, max: m.max}
	for _, b := range m.blocks {
		c.blocks = append(c.blocks, append([]byte(nil), b...))
	}
	return c
}

// imgFile is a directory's blocks inside an image file; spare blocks
// (added beforehand with debugfs expand_dir) are handed out by AppendBlock.
type imgFile struct {
	f     *os.File
	bs    int
	phys  []uint64
	spare []uint64
}

func (m *imgFile) Blocks() uint32 { return uint32(len(m.phys)) }

func (m *imgFile) ReadBlock(l uint32) ([]byte, error) {
	if int(l) >= len(m.phys) {
		return nil, fmt.Errorf("imgfile: block %d out of range", l)
	}
	b := make([]byte, m.bs)
	_, err := m.f.ReadAt(b, int64(m.phys[l])*int64(m.bs))
	return b, err
}

func (m *imgFile) WriteBlock(l uint32, b []byte) error {
	if int(l) >= len(m.phys) || len(b) != m.bs {
		return fmt.Errorf("imgfile: bad write of block %d", l)
	}
	_, err := m.f.WriteAt(b, int64(m.phys[l])*int64(m.bs))
	return err
}

func (m *imgFile) AppendBlock() (uint32, error) {
	if len(m.spare) == 0 {
		return 0, errors.New("imgfile: no space")
	}
	p := m.spare[0]
	m.spare = m.spare[1:]
	if _, err := m.f.WriteAt(make([]byte, m.bs), int64(p)*int64(m.bs)); err != nil {
		return 0, err
	}
	m.phys = append(m.phys, p)
	return uint32(len(m.phys) - 1), nil
}

// e2fsprogs are the oracles and fixture builders of the image tests.
var e2fsprogs = []string{"mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs"}

// mkImage builds a Yocto-like image of tree at block size bs.
func mkImage(t testing.TB, tree string, bs int, size string, extra ...string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "img")
	args := []string{"-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", strconv.Itoa(bs)}
	args = append(args, extra...)
	args = append(args, "-d", tree, img, size)
	if out, err := exec.Command("mkfs.ext4", args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	if out, err := exec.Command("fsck.ext4", "-pfD", img).CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() > 1 {
			t.Fatalf("fsck.ext4 -pfD: %v\n%s", err, out)
		}
	}
	return img
}

func copyImage(t testing.TB, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "work.img")
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// debugfs runs commands (one per line) and returns stdout.
func debugfs(t testing.TB, img string, write bool, cmds ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(f, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", f, img}
	if len(cmds) == 1 {
		args = []string{"-R", cmds[0], img}
	}
	if write {
		args = append([]string{"-w"}, args...)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command("debugfs", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("debugfs %v: %v\n%s", cmds, err, errb.String())
	}
	return out.String()
}

func fsckClean(t testing.TB, img string) {
	t.Helper()
	out, err := exec.Command("e2fsck", "-fn", img).CombinedOutput()
	if err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, out)
	}
}

// fsInfo is what Params need from the superblock, read by the test itself.
type fsInfo struct {
	bs       int
	inodes   uint32
	csum     bool
	filetype bool
	largedir bool
	unsigned bool
	hashVer  uint8
	hashSeed [4]uint32
	fsSeed   uint32
}

// Superblock fields (offsets within the superblock at byte 1024).
const (
	sbOff          = 1024
	sbInodesCount  = 0x0
	sbLogBlockSize = 0x18
	sbIncompat     = 0x60
	sbROCompat     = 0x64
	sbUUID         = 0x68
	sbHashSeed     = 0xEC
	sbDefHashVer   = 0xFC
	sbFlags        = 0x160
	sbCsumSeed     = 0x270
	incompatFT     = 0x2
	incompatCsSeed = 0x2000
	incompatLarge  = 0x4000
	roMetadataCsum = 0x400
	flagUnsigned   = 0x2
)

func readInfo(t testing.TB, img string) fsInfo {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, sbOff); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	in := le.Uint32(sb[sbIncompat:])
	fi := fsInfo{
		bs:       1024 << le.Uint32(sb[sbLogBlockSize:]),
		inodes:   le.Uint32(sb[sbInodesCount:]),
		csum:     le.Uint32(sb[sbROCompat:])&roMetadataCsum != 0,
		filetype: in&incompatFT != 0,
		largedir: in&incompatLarge != 0,
		unsigned: le.Uint32(sb[sbFlags:])&flagUnsigned != 0,
		hashVer:  sb[sbDefHashVer],
	}
	for i := range fi.hashSeed {
		fi.hashSeed[i] = le.Uint32(sb[sbHashSeed+4*i:])
	}
	if in&incompatCsSeed != 0 {
		fi.fsSeed = le.Uint32(sb[sbCsumSeed:])
	} else {
		var u [16]byte
		copy(u[:], sb[sbUUID:])
		fi.fsSeed = disk.FSSeed(u)
	}
	return fi
}

var (
	reInode = regexp.MustCompile(`Inode: (\d+)\s+Type: (\S+).*Flags: (0x[0-9a-f]+)`)
	reGen   = regexp.MustCompile(`Generation: (\d+)`)
)

// dirOnImage opens path's directory blocks in img for reading and writing.
type dirOnImage struct {
	ino    uint32
	params Params
	file   *imgFile
}

const indexFlag = 0x1000

func openOnImage(t testing.TB, img, path string) *dirOnImage {
	t.Helper()
	fi := readInfo(t, img)
	st := debugfs(t, img, false, "stat "+path)
	m := reInode.FindStringSubmatch(st)
	g := reGen.FindStringSubmatch(st)
	if m == nil || g == nil || m[2] != "directory" {
		t.Fatalf("stat %s: unexpected output\n%s", path, st)
	}
	ino, _ := strconv.ParseUint(m[1], 10, 32)
	flags, _ := strconv.ParseUint(m[3], 0, 32)
	gen, _ := strconv.ParseUint(g[1], 10, 32)
	var phys []uint64
	for _, w := range strings.Fields(debugfs(t, img, false, "blocks "+path)) {
		p, err := strconv.ParseUint(w, 10, 64)
		if err != nil {
			t.Fatalf("blocks %s: %q", path, w)
		}
		phys = append(phys, p)
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &dirOnImage{
		ino: uint32(ino),
		params: Params{
			BlockSize: fi.bs, Csum: fi.csum, Seed: disk.InodeSeed(fi.fsSeed, uint32(ino), uint32(gen)),
			FileType: fi.filetype, HashVersion: fi.hashVer, HashSeed: fi.hashSeed, Unsigned: fi.unsigned,
			Indexed: flags&indexFlag != 0, LargeDir: fi.largedir, Inodes: fi.inodes,
		},
		file: &imgFile{f: f, bs: fi.bs, phys: phys},
	}
}

// loadMem copies a directory's blocks into memory.
func (o *dirOnImage) loadMem(t testing.TB) *memFile {
	t.Helper()
	m := &memFile{bs: o.file.bs}
	for l := range o.file.Blocks() {
		b, err := o.file.ReadBlock(l)
		if err != nil {
			t.Fatal(err)
		}
		m.blocks = append(m.blocks, b)
	}
	return m
}

var modeType = map[uint64]FileType{
	0o01: TypeFIFO, 0o02: TypeCharDev, 0o04: TypeDir, 0o06: TypeBlock,
	0o10: TypeRegular, 0o12: TypeSymlink, 0o14: TypeSocket,
}

// debugfsList is `ls -p` of a directory without . and .., sorted by name.
func debugfsList(t testing.TB, img, path string) []Entry {
	t.Helper()
	var out []Entry
	for _, line := range strings.Split(debugfs(t, img, false, "ls -p "+path), "\n") {
		f := strings.Split(line, "/")
		if len(f) < 7 || f[0] != "" {
			continue
		}
		ino, _ := strconv.ParseUint(f[1], 10, 32)
		mode, _ := strconv.ParseUint(f[2], 8, 32)
		if f[5] == "." || f[5] == ".." || ino == 0 { // ls shows unused slots as inode 0
			continue
		}
		out = append(out, Entry{Name: f[5], Inode: uint32(ino), Type: modeType[mode>>12]})
	}
	sortEntries(out)
	return out
}

func sortEntries(e []Entry) {
	sort.Slice(e, func(i, j int) bool { return e[i].Name < e[j].Name })
}

func sameEntries(t testing.TB, what string, got, want []Entry) {
	t.Helper()
	got = append([]Entry(nil), got...)
	want = append([]Entry(nil), want...)
	sortEntries(got)
	sortEntries(want)
	if len(got) != len(want) {
		seen := map[Entry]int{}
		for _, e := range want {
			seen[e]++
		}
		for _, e := range got {
			if seen[e]--; seen[e] < 0 {
				t.Errorf("%s: unexpected %+v", what, e)
				break
			}
		}
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: entry %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}
