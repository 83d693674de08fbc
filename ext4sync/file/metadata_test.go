package file_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
)

// deepExtents is how many one-block extents the deep fixture file has:
// more than the 4 the inode holds, so its tree has an index in i_block
// and one leaf block.
const deepExtents = 12

// TestLoadRefusesMetadataExtents points a file's first extent, the index
// in a deep file's i_block and the first extent in its leaf block at an
// inode table block, a block bitmap, the superblock and the journal. Load
// must refuse each with ErrCorrupt, naming the inode and the structure:
// writing such a file in place would overwrite filesystem metadata.
func TestLoadRefusesMetadataExtents(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		x := newFixture(t, v, func(x *fixture) {
			x.write("f", randBytes(1, 3*v.bs))
			x.write("deep", sparseBytes(v.bs, deepExtents))
		})
		f, deep := x.ino("f"), x.ino("deep")
		if d := x.load(deep); len(x.nodes(d)) != 1 {
			t.Fatalf("deep file has %d tree blocks, want 1", len(x.nodes(d)))
		}
		gd := group0(t, x.f)
		itable := gd.InodeTable() + 2
		geo := x.f.Geometry()
		journal := journalStart(t, x.f)
		before := dataBefore(t, x.f)
		cases := []struct {
			name   string
			damage func(f *fs.FS) uint32 // returns the damaged inode
			want   string
		}{
			{"extent on inode table", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, f, itable); return f },
				fmt.Sprintf("extent 0 maps physical [%d, %d) over group 0 inode table (block %d)", itable, itable+3, itable)},
			{"extent on block bitmap", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, f, gd.BlockBitmap()); return f },
				fmt.Sprintf("over group 0 block bitmap (block %d)", gd.BlockBitmap())},
			{"extent on superblock", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, f, geo.FirstDataBlock); return f },
				fmt.Sprintf("over group 0 superblock and descriptors (block %d)", geo.FirstDataBlock)},
			{"extent running into metadata", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, f, before); return f },
				fmt.Sprintf("extent 0 maps physical [%d, %d) over %s", before, before+3, x.f.MetadataIn(before, 3))},
			{"extent on journal", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, f, journal); return f },
				fmt.Sprintf("over journal (inode 8) (block %d)", journal)},
			{"index on inode table", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, deep, itable); return deep },
				fmt.Sprintf("extent node i_block: index 0 points at block %d, which is group 0 inode table (block %d)", itable, itable)},
			{"index on block bitmap", func(fsys *fs.FS) uint32 { setRootEntry(t, fsys, deep, gd.BlockBitmap()); return deep },
				fmt.Sprintf("index 0 points at block %d, which is group 0 block bitmap", gd.BlockBitmap())},
			{"leaf extent on inode table", func(fsys *fs.FS) uint32 { setLeafEntry(t, fsys, deep, itable); return deep },
				fmt.Sprintf("extent 0 maps physical [%d, %d) over group 0 inode table (block %d)", itable, itable+1, itable)},
			{"leaf extent on block bitmap", func(fsys *fs.FS) uint32 { setLeafEntry(t, fsys, deep, gd.BlockBitmap()); return deep },
				fmt.Sprintf("over group 0 block bitmap (block %d)", gd.BlockBitmap())},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				fsys := openCopy(t, x)
				ino := c.damage(fsys)
				_, err := file.Load(fsys, ino)
				if !errors.Is(err, fs.ErrCorrupt) {
					t.Fatalf("Load: %v, want ErrCorrupt", err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("inode %d", ino)) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Load: %v\nwant the inode %d and %q", err, ino, c.want)
				}
			})
		}
	})
}

// sparseBytes is n data blocks of bs bytes, each followed by a zero block,
// which mkfs.ext4 -d stores as a hole: n one-block extents.
func sparseBytes(bs, n int) []byte {
	b := make([]byte, 2*n*bs)
	for i := 0; i < n; i++ {
		copy(b[2*i*bs:], bytes.Repeat([]byte{byte(i + 1)}, bs))
	}
	return b
}

// nodes lists the blocks of an inode's extent tree outside i_block.
func (x *fixture) nodes(in *file.Inode) []uint64 {
	x.t.Helper()
	t, err := extent.Read(in.Raw().Block[:], fsReader{x.f}, extent.Options{Ino: in.Ino(),
		FirstDataBlock: x.f.Geometry().FirstDataBlock, BlocksCount: x.f.BlocksCount()})
	if err != nil {
		x.t.Fatal(err)
	}
	return t.Nodes
}

// fsReader reads tree blocks from an FS.
type fsReader struct{ f *fs.FS }

func (r fsReader) BlockSize() int                       { return int(r.f.BlockSize()) }
func (r fsReader) ReadBlock(blk uint64) ([]byte, error) { return r.f.ReadBlock(blk) }

// openCopy opens x's image through a fresh overlay, so damage stays out of
// the fixture.
func openCopy(t *testing.T, x *fixture) *fs.FS {
	t.Helper()
	dev, err := overlay.Open(x.img, overlay.Options{BlockSize: x.v.bs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	f, err := fs.Open(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// group0 decodes group 0's descriptor from the primary table.
func group0(t *testing.T, f *fs.FS) disk.GroupDesc {
	t.Helper()
	b, err := f.ReadBlock(f.Geometry().FirstDataBlock + 1)
	if err != nil {
		t.Fatal(err)
	}
	var gd disk.GroupDesc
	sb := f.Superblock()
	size := sb.DescriptorSize()
	if err := gd.Unmarshal(b[:size], size); err != nil {
		t.Fatal(err)
	}
	return gd
}

// journalStart is the first block of the journal's data.
func journalStart(t *testing.T, f *fs.FS) uint64 {
	t.Helper()
	ino := f.Superblock().JournalInum
	raw, err := f.ReadInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := extent.Read(raw.Block[:], fsReader{f}, extent.Options{Ino: ino,
		FirstDataBlock: f.Geometry().FirstDataBlock, BlocksCount: f.BlocksCount()})
	if err != nil || len(tr.Mappings) == 0 {
		t.Fatalf("journal extents: %v %v", tr, err)
	}
	return tr.Mappings[0].Physical
}

// dataBefore is the first block b where b and b+1 are data blocks and b+2
// is metadata: an extent of 3 blocks from b runs into metadata.
func dataBefore(t *testing.T, f *fs.FS) uint64 {
	t.Helper()
	for b := f.Geometry().FirstDataBlock; b+2 < f.BlocksCount(); b++ {
		if !f.IsMetadata(b) && !f.IsMetadata(b+1) && f.IsMetadata(b+2) {
			if what := f.MetadataIn(b, 3); !strings.HasSuffix(what, fmt.Sprintf("(block %d)", b+2)) {
				t.Fatalf("MetadataIn(%d, 3) = %q, want block %d", b, what, b+2)
			}
			return b
		}
	}
	t.Fatal("no data block right before metadata")
	return 0
}

// putEntryBlock points a tree node's first entry at blk: an extent's start
// in a leaf, the child block in an index node.
func putEntryBlock(node []byte, blk uint64) {
	e := node[extent.HeaderSize:]
	if extent.DecodeHeader(node).Depth == 0 {
		binary.LittleEndian.PutUint16(e[6:], uint16(blk>>32))
		binary.LittleEndian.PutUint32(e[8:], uint32(blk))
		return
	}
	binary.LittleEndian.PutUint32(e[4:], uint32(blk))
	binary.LittleEndian.PutUint16(e[8:], uint16(blk>>32))
}

// setRootEntry points the first entry of inode ino's i_block at blk and
// saves the inode with a valid checksum.
func setRootEntry(t *testing.T, f *fs.FS, ino uint32, blk uint64) {
	t.Helper()
	raw, err := f.ReadInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	putEntryBlock(raw.Block[:], blk)
	if err := f.WriteInode(ino, raw); err != nil {
		t.Fatal(err)
	}
}

// setLeafEntry points the first extent of the leaf block under inode ino's
// i_block at blk, keeping the leaf's checksum valid.
func setLeafEntry(t *testing.T, f *fs.FS, ino uint32, blk uint64) {
	t.Helper()
	raw, err := f.ReadInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	leaf := extent.DecodeIndex(raw.Block[extent.HeaderSize:]).Child()
	b, err := f.ReadBlock(leaf)
	if err != nil {
		t.Fatal(err)
	}
	putEntryBlock(b, blk)
	if f.HasMetadataCsum() {
		sum, err := extent.Checksum(f.InodeSeed(ino, raw.Generation), b)
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint32(b[extent.HeaderSize+extent.EntrySize*int(extent.DecodeHeader(b).Max):], sum)
	}
	if err := f.WriteBlock(leaf, b); err != nil {
		t.Fatal(err)
	}
}
