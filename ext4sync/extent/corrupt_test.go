package extent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// corruptBase is a valid depth-2 tree on 1 KiB blocks with checksums.
func corruptBase(t *testing.T) (*memStore, *Tree) {
	t.Helper()
	s, a := newMemStore(1024), newMemAlloc(1<<20)
	tr, _ := build(t, s, a, sparseMaps(4*BlockMax(1024)+20), nil)
	if tr.Depth != 2 {
		t.Fatalf("depth %d", tr.Depth)
	}
	return s, tr
}

// edit changes node blk and, when resum, recomputes its checksum.
func edit(s *memStore, blk uint64, resum bool, fn func(b []byte)) {
	b := s.blocks[blk]
	fn(b)
	if resum {
		putChecksum(testOpt().Seed, b)
	}
}

type failStore struct {
	*memStore
	short bool
}

func (f failStore) ReadBlock(blk uint64) ([]byte, error) {
	if f.short {
		return make([]byte, 100), nil
	}
	return nil, fmt.Errorf("I/O error")
}

func TestReadCorrupt(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	cases := []struct {
		name  string
		want  error
		where string // text the error must contain
		mut   func(s *memStore, tr *Tree, root []byte)
	}{
		{"root magic", ErrCorrupt, "i_block: bad magic", func(s *memStore, tr *Tree, root []byte) { le.PutUint16(root, 0xF30B) }},
		{"root entries>max", ErrCorrupt, "entries exceed", func(s *memStore, tr *Tree, root []byte) { le.PutUint16(root[2:], 5) }},
		{"root eh_max", ErrCorrupt, "eh_max 9", func(s *memStore, tr *Tree, root []byte) { le.PutUint16(root[4:], 9) }},
		{"root depth", ErrCorrupt, "depth 6", func(s *memStore, tr *Tree, root []byte) { le.PutUint16(root[6:], 6) }},
		{"depth mismatch", ErrCorrupt, "eh_depth 0, want 1", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[1][0], true, func(b []byte) { le.PutUint16(b[6:], 0) })
		}},
		{"loop", ErrCorrupt, "loop", func(s *memStore, tr *Tree, root []byte) {
			blk := tr.Levels[1][0]
			edit(s, blk, true, func(b []byte) { le.PutUint32(b[HeaderSize+EntrySize+4:], uint32(blk)) })
		}},
		{"index out of range", ErrCorrupt, "outside", func(s *memStore, tr *Tree, root []byte) {
			le.PutUint16(root[HeaderSize+8:], 0xFFFF)
		}},
		{"extent out of range", ErrCorrupt, "maps physical", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][2], true, func(b []byte) { le.PutUint16(b[HeaderSize+6:], 0xFFFF) })
		}},
		{"checksum", ErrChecksum, fmt.Sprintf("block %d", 1<<20), func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][0], false, func(b []byte) { b[HeaderSize] ^= 1 })
		}},
		{"index start", ErrCorrupt, "its index says", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][1], true, func(b []byte) { le.PutUint32(b[HeaderSize:], le.Uint32(b[HeaderSize:])+1) })
		}},
		{"unsorted extents", ErrCorrupt, "out of order", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][1], true, func(b []byte) { le.PutUint32(b[HeaderSize+EntrySize:], 0) })
		}},
		{"zero length", ErrCorrupt, "length 0", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][1], true, func(b []byte) { le.PutUint16(b[HeaderSize+4:], 0) })
		}},
		{"empty leaf", ErrCorrupt, "empty node", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][1], true, func(b []byte) { le.PutUint16(b[2:], 0) })
		}},
		{"leaf magic", ErrCorrupt, "bad magic", func(s *memStore, tr *Tree, root []byte) {
			edit(s, tr.Levels[0][3], true, func(b []byte) { b[0] = 0 })
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, tr := corruptBase(t)
			root := tr.Root
			c.mut(s, tr, root[:])
			_, err := Read(root[:], s, testOpt())
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.where) || !strings.Contains(err.Error(), "inode 12") {
				t.Fatalf("error %q does not name %q and the inode", err, c.where)
			}
		})
	}
	s, tr := corruptBase(t)
	for _, fs := range []failStore{{s, false}, {s, true}} {
		if _, err := Read(tr.Root[:], fs, testOpt()); err == nil {
			t.Fatalf("failing store (short %v): no error", fs.short)
		}
	}
	if _, err := Read(tr.Root[:10], s, testOpt()); err == nil {
		t.Fatal("short root: no error")
	}
	opt := testOpt()
	opt.BlocksCount = 0
	if _, err := Read(tr.Root[:], s, opt); err == nil {
		t.Fatal("empty block range: no error")
	}
}

func TestChecksumRejectsShortBlocks(t *testing.T) {
	t.Parallel()
	if _, err := Checksum(1, make([]byte, 5)); err == nil {
		t.Fatal("5-byte block: no error")
	}
	b := make([]byte, 1024)
	Header{Magic: Magic, Max: 200}.Put(b)
	if _, err := Checksum(1, b); err == nil {
		t.Fatal("eh_max past the block: no error")
	}
	Header{Magic: Magic, Max: uint16(BlockMax(1024))}.Put(b)
	if _, err := Checksum(1, b); err != nil {
		t.Fatal(err)
	}
}

// TestReadRefusesMetadata: with Options.Metadata set, Read refuses an index
// whose child block and an extent whose data blocks are filesystem
// metadata, before reading the child; every block it asks about is one the
// tree uses.
func TestReadRefusesMetadata(t *testing.T) {
	t.Parallel()
	s, tr := corruptBase(t)
	used := map[uint64]bool{}
	for _, n := range tr.Nodes {
		used[n] = true
	}
	for _, m := range tr.Mappings {
		for b := m.Physical; b < m.Physical+uint64(m.Len); b++ {
			used[b] = true
		}
	}
	metaAt := func(blk uint64) func(start, n uint64) string {
		return func(start, n uint64) string {
			for b := start; b < start+n; b++ {
				if !used[b] {
					t.Errorf("asked about block %d, which the tree does not use", b)
				}
			}
			if blk >= start && blk < start+n {
				return fmt.Sprintf("inode table (block %d)", blk)
			}
			return ""
		}
	}
	leaf := tr.Levels[0][3]
	data := tr.Mappings[7].Physical + uint64(tr.Mappings[7].Len) - 1
	cases := []struct {
		name string
		blk  uint64
		want string
	}{
		{"node", leaf, fmt.Sprintf("index 3 points at block %d, which is inode table (block %d)", leaf, leaf)},
		{"data", data, fmt.Sprintf("extent 7 maps physical [%d, %d) over inode table (block %d)",
			tr.Mappings[7].Physical, data+1, data)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := testOpt()
			opt.Metadata = metaAt(c.blk)
			_, err := Read(tr.Root[:], s, opt)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "inode 12") {
				t.Fatalf("err = %v, want ErrCorrupt with %q", err, c.want)
			}
		})
	}
	opt := testOpt()
	opt.Metadata = metaAt(0)
	if _, err := Read(tr.Root[:], s, opt); err != nil {
		t.Fatalf("no metadata in the tree: %v", err)
	}
}
