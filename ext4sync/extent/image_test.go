package extent

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The fixtures: on 1 KiB blocks /big (700 one-block extents) has depth 2,
// /mid (200) depth 1; on 4 KiB blocks /big (1500) has depth 2, /mid (300)
// depth 1; /small is one extent in the inode.
var (
	spec1k = fixtureSpec{bs: 1024, files: 2000, mid: 200, big: 700, no64bit: true}
	spec4k = fixtureSpec{bs: 4096, files: 3700, mid: 300, big: 1500}
)

func specs() []fixtureSpec { return []fixtureSpec{spec1k, spec4k} }

func rootOf(raw []byte) []byte { return raw[inoBlock : inoBlock+RootSize] }

func TestReadRealTrees(t *testing.T) {
	t.Parallel()
	for _, spec := range specs() {
		img := fixture(t, spec)
		im := openImage(t, img)
		for _, c := range []struct {
			path  string
			depth int
		}{{"/small", 0}, {"/mid", 1}, {"/big", 2}} {
			_, raw, opt := im.inode(t, c.path)
			tr, err := Read(rootOf(raw), im, opt)
			if err != nil {
				t.Fatalf("bs %d %s: %v", spec.bs, c.path, err)
			}
			want, depth := debugfsExtents(t, img, c.path)
			if !slices.Equal(tr.Mappings, want) {
				t.Fatalf("bs %d %s: mappings differ from debugfs: %d vs %d extents", spec.bs, c.path, len(tr.Mappings), len(want))
			}
			if tr.Depth != c.depth || depth != c.depth {
				t.Fatalf("bs %d %s: depth %d (debugfs %d), want %d", spec.bs, c.path, tr.Depth, depth, c.depth)
			}
			if nodes := debugfsNodes(t, img, c.path); !slices.Equal(tr.Nodes, nodes) {
				t.Fatalf("bs %d %s: nodes %v, debugfs shows %v", spec.bs, c.path, tr.Nodes, nodes)
			}
			t.Logf("bs %d %s: %d extents, depth %d, %d nodes, entries %v", spec.bs, c.path, len(tr.Mappings), tr.Depth, len(tr.Nodes), tr.Entries)
		}
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// noAlloc is an Allocator for operations that must not allocate; it
// records frees.
type noAlloc struct{ freed []uint64 }

func (a *noAlloc) AllocBlock(goal uint64) (uint64, error) {
	return 0, fmt.Errorf("unexpected allocation near %d", goal)
}
func (a *noAlloc) FreeBlock(blk uint64) error { a.freed = append(a.freed, blk); return nil }

// Re-laying a libext2fs-made tree with its own mapping changes no byte.
func TestRelayIsByteIdentical(t *testing.T) {
	t.Parallel()
	for _, spec := range specs() {
		img := fixture(t, spec)
		before := fileHash(t, img)
		im := openImage(t, img)
		for _, path := range []string{"/small", "/mid", "/big"} {
			_, raw, opt := im.inode(t, path)
			old, err := Read(rootOf(raw), im, opt)
			if err != nil {
				t.Fatal(err)
			}
			tr, ch, err := Build(old.Mappings, old, im, &noAlloc{}, opt)
			if err != nil {
				t.Fatalf("bs %d %s: %v", spec.bs, path, err)
			}
			if len(ch.Written)+len(ch.Allocated)+len(ch.Freed) != 0 || tr.Root != old.Root || !slices.Equal(tr.Nodes, old.Nodes) {
				t.Fatalf("bs %d %s: re-lay changed the tree: %+v", spec.bs, path, ch)
			}
		}
		if fileHash(t, img) != before {
			t.Fatalf("bs %d: image bytes changed", spec.bs)
		}
	}
}

// commit stores a rebuilt tree in the inode (i_block, i_size, i_blocks,
// checksum), then has debugfs mark blocks free or used, and checks the image
// with e2fsck and the tree with debugfs.
func commit(t *testing.T, im *image, path string, ino uint32, raw []byte, opt Options, tr *Tree, freeb, setb []uint64) {
	t.Helper()
	le := binary.LittleEndian
	copy(raw[inoBlock:], tr.Root[:])
	var size uint64
	if n := len(tr.Mappings); n > 0 {
		size = tr.Mappings[n-1].End() * uint64(im.bs)
	}
	le.PutUint32(raw[inoSizeLo:], uint32(size))
	le.PutUint32(raw[inoSizeHi:], uint32(size>>32))
	sectors := (MappedBlocks(tr.Mappings) + uint64(tr.NodeCount())) * uint64(im.bs/sectorSize)
	le.PutUint32(raw[inoBlocksLo:], uint32(sectors))
	le.PutUint16(raw[inoBlocksHi:], uint16(sectors>>32))
	im.writeInode(t, ino, raw, opt.Seed)
	if err := im.f.Sync(); err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, b := range freeb {
		cmds = append(cmds, fmt.Sprintf("freeb %d", b))
	}
	for _, b := range setb {
		cmds = append(cmds, fmt.Sprintf("setb %d", b))
	}
	cmds = append(cmds, fixCounts(t, im, freeb, setb)...)
	if len(cmds) > 0 {
		cmdFile := im.path + ".cmds"
		if err := os.WriteFile(cmdFile, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, code := run(t, "debugfs", "-w", "-f", cmdFile, im.path); code != 0 {
			t.Fatalf("debugfs: %d %s", code, out)
		}
	}
	e2fsckClean(t, im.path)
	got, depth := debugfsExtents(t, im.path, path)
	if !slices.Equal(got, tr.Mappings) || depth != tr.Depth {
		t.Fatalf("debugfs reads %d extents at depth %d, built %d at depth %d", len(got), depth, len(tr.Mappings), tr.Depth)
	}
	if nodes := debugfsNodes(t, im.path, path); !slices.Equal(nodes, tr.Nodes) {
		t.Fatalf("debugfs shows nodes %v, built %v", nodes, tr.Nodes)
	}
}

func blocksOf(maps []Mapping) []uint64 {
	var out []uint64
	for _, m := range maps {
		for i := range uint64(m.Len) {
			out = append(out, m.Physical+i)
		}
	}
	return out
}

// Truncating /big to fewer extents, down through every depth, leaves an
// image e2fsck accepts; only the tail leaf is rewritten.
func TestTruncateE2fsck(t *testing.T) {
	t.Parallel()
	for _, spec := range specs() {
		per := BlockMax(spec.bs)
		for _, keep := range []int{spec.big - 1, spec.big / 2, 4*(per-1) - 10, per + 3, 3, 0} {
			t.Run(fmt.Sprintf("bs%d/keep%d", spec.bs, keep), func(t *testing.T) {
				im := openImage(t, fixture(t, spec))
				ino, raw, opt := im.inode(t, "/big")
				old, err := Read(rootOf(raw), im, opt)
				if err != nil {
					t.Fatal(err)
				}
				a := &noAlloc{}
				tr, ch, err := Build(old.Mappings[:keep], old, im, a, opt)
				if err != nil {
					t.Fatal(err)
				}
				if len(ch.Written) > tr.Depth {
					t.Errorf("truncate wrote %d nodes, want at most one per level (%d)", len(ch.Written), tr.Depth)
				}
				freeb := append(blocksOf(old.Mappings[keep:]), a.freed...)
				commit(t, im, "/big", ino, raw, opt, tr, freeb, nil)
			})
		}
	}
}

// Punching a hole in the middle of /big rewrites one leaf.
func TestPunchHoleE2fsck(t *testing.T) {
	t.Parallel()
	for _, spec := range specs() {
		im := openImage(t, fixture(t, spec))
		ino, raw, opt := im.inode(t, "/big")
		old, err := Read(rootOf(raw), im, opt)
		if err != nil {
			t.Fatal(err)
		}
		i := len(old.Mappings) / 2
		maps := slices.Delete(slices.Clone(old.Mappings), i, i+1)
		tr, ch, err := Build(maps, old, im, &noAlloc{}, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Written) != 1 || len(ch.Freed) != 0 {
			t.Errorf("bs %d: punch wrote %v freed %v, want one leaf", spec.bs, ch.Written, ch.Freed)
		}
		commit(t, im, "/big", ino, raw, opt, tr, blocksOf(old.Mappings[i:i+1]), nil)
	}
}

var ffbRE = regexp.MustCompile(`Free blocks found: ([\d ]+)`)

// freeBlocks asks debugfs for n free blocks.
func freeBlocks(t *testing.T, img string, n int) []uint64 {
	m := ffbRE.FindStringSubmatch(debugfs(t, img, fmt.Sprintf("ffb %d", n)))
	if m == nil {
		t.Fatal("ffb: no free blocks")
	}
	var out []uint64
	for _, f := range strings.Fields(m[1]) {
		b, _ := strconv.ParseUint(f, 10, 64)
		out = append(out, b)
	}
	return out
}

// listAlloc hands out blocks from a list.
type listAlloc struct {
	free  []uint64
	taken []uint64
	freed []uint64
}

func (a *listAlloc) AllocBlock(goal uint64) (uint64, error) {
	if len(a.free) == 0 {
		return 0, fmt.Errorf("out of blocks")
	}
	b := a.free[0]
	a.free = a.free[1:]
	a.taken = append(a.taken, b)
	return b, nil
}
func (a *listAlloc) FreeBlock(blk uint64) error { a.freed = append(a.freed, blk); return nil }

// Growing /mid past what its depth holds allocates leaves and an index
// level; e2fsck accepts the result and the old leaves stay put.
func TestGrowE2fsck(t *testing.T) {
	t.Parallel()
	for _, spec := range specs() {
		per := BlockMax(spec.bs)
		im := openImage(t, fixture(t, spec))
		ino, raw, opt := im.inode(t, "/mid")
		old, err := Read(rootOf(raw), im, opt)
		if err != nil {
			t.Fatal(err)
		}
		extra := 4*per - len(old.Mappings) + 50 // enough to need depth 2
		free := freeBlocks(t, im.path, 2*extra+10)
		maps := slices.Clone(old.Mappings)
		next := uint32(old.Mappings[len(old.Mappings)-1].End()) + 1
		var data []uint64
		for k := range extra {
			b := free[2*k] // every other block, so runs do not merge
			maps = append(maps, Mapping{Logical: next, Physical: b, Len: 1, Uninit: k%5 == 0})
			data = append(data, b)
			next += 2
		}
		a := &listAlloc{}
		for k := range 10 {
			a.free = append(a.free, free[2*extra+k])
		}
		for k := range extra {
			a.free = append(a.free, free[2*k+1])
		}
		tr, ch, err := Build(maps, old, im, a, opt)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Depth != 2 || !slices.Equal(tr.Levels[0][:len(old.Levels[0])-1], old.Levels[0][:len(old.Levels[0])-1]) {
			t.Fatalf("bs %d: depth %d, leaves %v -> %v", spec.bs, tr.Depth, old.Levels[0], tr.Levels[0])
		}
		t.Logf("bs %d: grew %d -> %d extents: %d written, %d allocated", spec.bs, len(old.Mappings), len(tr.Mappings), len(ch.Written), len(ch.Allocated))
		commit(t, im, "/mid", ino, raw, opt, tr, nil, append(data, a.taken...))
	}
}

var groupFreeRE = regexp.MustCompile(`(?m)^\s+(\d+) free blocks,`)

// fixCounts returns debugfs commands that bring the group and superblock
// free-block counts in line with blocks freed and set (debugfs freeb/setb
// change only the bitmap).
func fixCounts(t *testing.T, im *image, freeb, setb []uint64) []string {
	t.Helper()
	sb := make([]byte, 1024)
	if _, err := im.f.ReadAt(sb, sbOffset); err != nil {
		t.Fatal(err)
	}
	perGroup := uint64(binary.LittleEndian.Uint32(sb[sbBlocksPerGroup:]))
	var counts []int64
	for _, m := range groupFreeRE.FindAllStringSubmatch(debugfs(t, im.path, "stats"), -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		counts = append(counts, n)
	}
	delta := make([]int64, len(counts))
	for _, b := range freeb {
		delta[(b-im.opt.FirstDataBlock)/perGroup]++
	}
	for _, b := range setb {
		delta[(b-im.opt.FirstDataBlock)/perGroup]--
	}
	var cmds []string
	var total int64
	for g, c := range counts {
		total += c + delta[g]
		if delta[g] != 0 {
			cmds = append(cmds, fmt.Sprintf("set_bg %d free_blocks_count %d", g, c+delta[g]), fmt.Sprintf("set_bg %d checksum calc", g))
		}
	}
	return append(cmds, fmt.Sprintf("ssv free_blocks_count %d", total))
}
