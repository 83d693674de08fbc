package fs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// TestMetadataIn names the structure of metadata blocks across groups
// (superblock backups, bitmaps, inode tables, the journal), reports the
// first metadata block of a range that runs into metadata, and returns ""
// for data.
func TestMetadataIn(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "64M")
	f, err := Open(loadDev(t, img), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.geo.Groups < 4 || !f.layout.Group[1].Super || !f.layout.Group[3].Super || f.layout.Group[2].Super {
		t.Fatalf("fixture: %d groups, want sparse backups in groups 1 and 3", f.geo.Groups)
	}
	in, err := f.ReadInode(f.sb.JournalInum)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.extentRuns(f.sb.JournalInum, in)
	if err != nil || len(runs) == 0 {
		t.Fatalf("journal runs %v %v", runs, err)
	}
	g1 := f.geo.GroupFirstBlock(1)
	data := g1 + 1
	for f.IsMetadata(data) || f.IsMetadata(data+1) || f.IsMetadata(data+2) {
		data++
	}
	last := f.gds[3].InodeTable() + f.geo.ItableBlocks - 1
	cases := []struct {
		start, n uint64
		want     string
	}{
		{1, 1, "group 0 superblock and descriptors (block 1)"},
		{g1 + 1, 1, fmt.Sprintf("group 1 superblock and descriptors (block %d)", g1+1)},
		{f.gds[2].BlockBitmap(), 1, fmt.Sprintf("group 2 block bitmap (block %d)", f.gds[2].BlockBitmap())},
		{f.gds[3].InodeBitmap(), 1, fmt.Sprintf("group 3 inode bitmap (block %d)", f.gds[3].InodeBitmap())},
		{last, 1, fmt.Sprintf("group 3 inode table (block %d)", last)},
		{g1 - 3, 5, fmt.Sprintf("group 1 superblock and descriptors (block %d)", g1)},
		{runs[0].Physical + 7, 1, fmt.Sprintf("journal (inode %d) (block %d)", f.sb.JournalInum, runs[0].Physical+7)},
		{data, 3, ""},
		{f.geo.BlocksCount - 2, 2, ""},
		{^uint64(0) - 1, 10, ""},
	}
	for _, c := range cases {
		if got := f.MetadataIn(c.start, c.n); got != c.want {
			t.Errorf("MetadataIn(%d, %d) = %q, want %q", c.start, c.n, got, c.want)
		}
	}
}

// TestJournalOverMetadataRefused points the journal's first extent at
// group 0's inode table: Open refuses the image.
func TestJournalOverMetadataRefused(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ino := f.sb.JournalInum
	in, err := f.ReadInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	if d := binary.LittleEndian.Uint16(in.Block[6:]); d != 0 {
		t.Fatalf("journal extent tree depth %d, want 0", d)
	}
	itable := f.gds[0].InodeTable()
	binary.LittleEndian.PutUint16(in.Block[extent.HeaderSize+6:], uint16(itable>>32))
	binary.LittleEndian.PutUint32(in.Block[extent.HeaderSize+8:], uint32(itable))
	if err := f.WriteInode(ino, in); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("journal inode %d extent at logical 0: blocks %d+", ino, itable)
	_, err = Open(dev, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), fmt.Sprintf("overlap group 0 inode table (block %d)", itable)) {
		t.Fatalf("Open: %v, want ErrCorrupt with %q", err, want)
	}
}
