package fs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// Directory block layout the test needs to re-point one entry (package dir
// does this for real).
const (
	direntTailSize = 12
	direntNameOff  = 8
)

// lookup finds name in the first block of directory dirIno (a small,
// linear directory) and returns the block, the entry's offset and inode.
func lookup(t *testing.T, f *FS, dirIno uint32, name string) (blk uint64, off int, ino uint32) {
	t.Helper()
	in, err := f.ReadInode(dirIno)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.extentRuns(dirIno, in)
	if err != nil || len(runs) == 0 {
		t.Fatalf("directory %d: %v %v", dirIno, runs, err)
	}
	b, err := f.ReadBlock(runs[0].Physical)
	if err != nil {
		t.Fatal(err)
	}
	for o := 0; o+direntNameOff <= len(b); {
		rec := int(binary.LittleEndian.Uint16(b[o+4:]))
		nl := int(b[o+6])
		if rec < direntNameOff {
			break
		}
		if string(b[o+direntNameOff:o+direntNameOff+nl]) == name {
			return runs[0].Physical, o, binary.LittleEndian.Uint32(b[o:])
		}
		o += rec
	}
	t.Fatalf("%q not in directory %d", name, dirIno)
	return 0, 0, 0
}

// extentRoot builds an i_block holding one extent of n blocks at start.
func extentRoot(start uint64, n uint16) (b [disk.InodeBlockLen]byte) {
	binary.LittleEndian.PutUint16(b[0:], extent.Magic)
	binary.LittleEndian.PutUint16(b[2:], 1) // entries
	binary.LittleEndian.PutUint16(b[4:], 4) // max entries in i_block
	binary.LittleEndian.PutUint32(b[12:], 0)
	binary.LittleEndian.PutUint16(b[16:], n)
	binary.LittleEndian.PutUint16(b[18:], uint16(start>>32))
	binary.LittleEndian.PutUint32(b[20:], uint32(start))
	return b
}

// TestReplaceFile replaces /etc/hostname by a new inode in an INODE_UNINIT
// group whose data lies in a BLOCK_UNINIT group (when the image has one),
// frees the old inode and blocks, flushes, and checks the result with
// e2fsck and debugfs.
func TestReplaceFile(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			img := buildImage(t, fx.bs, fx.size, fx.extra...)
			dev := loadDev(t, img)
			f, err := Open(dev, Options{})
			if err != nil {
				t.Fatal(err)
			}
			freeBlocks, freeInodes := f.FreeBlocksCount(), f.FreeInodesCount()
			_, _, etc := lookup(t, f, disk.RootIno, "etc")
			dirBlk, entOff, oldIno := lookup(t, f, etc, "hostname")

			inoGroup, blkGroup := uint32(1), uint32(1)
			for g, st := range f.GroupStats() {
				if st.Flags&disk.BgBlockUninit != 0 {
					blkGroup = uint32(g)
					break
				}
			}
			ipg := f.Geometry().InodesPerGroup
			newIno, err := f.AllocInode(InodeRequest{Parent: inoGroup*ipg + 1})
			if err != nil {
				t.Fatal(err)
			}
			if newIno != inoGroup*ipg+1 {
				t.Fatalf("new inode %d, want the first of group %d", newIno, inoGroup)
			}
			const nblk = 3
			goal := f.Geometry().GroupFirstBlock(blkGroup)
			ext, err := f.AllocBlocks(BlockRequest{N: nblk, Goal: goal, Ino: newIno})
			if err != nil {
				t.Fatal(err)
			}
			if len(ext) != 1 || ext[0].Len != nblk {
				t.Fatalf("got %v, want one run of %d", ext, nblk)
			}
			if g, _, _ := f.Geometry().GroupOfBlock(ext[0].Start); g != blkGroup {
				t.Fatalf("blocks %v not in goal group %d", ext, blkGroup)
			}
			bs := int(f.BlockSize())
			content := []byte(strings.Repeat("new-hostname ", (2*bs+100)/13+1))[:2*bs+100]
			for i := 0; i < nblk; i++ {
				blk := make([]byte, bs)
				copy(blk, content[min(i*bs, len(content)):])
				if err := f.WriteBlock(ext[0].Start+uint64(i), blk); err != nil {
					t.Fatal(err)
				}
			}
			in := f.NewInode()
			in.Mode = disk.ModeRegular | 0o644
			in.LinksCount = 1
			in.SetSize(uint64(len(content)))
			in.SetSectors(uint64(nblk * bs / 512))
			in.Flags = disk.FlagExtents
			in.Block = extentRoot(ext[0].Start, nblk)
			in.Mtime, in.MtimeExtra = disk.EncodeTime(1700000000, 5)
			in.Ctime, in.CtimeExtra = in.Mtime, in.MtimeExtra
			in.Atime, in.AtimeExtra = in.Mtime, in.MtimeExtra
			if err := f.WriteInode(newIno, in); err != nil {
				t.Fatal(err)
			}

			// Re-point the directory entry and reseal the block's checksum.
			db, err := f.ReadBlock(dirBlk)
			if err != nil {
				t.Fatal(err)
			}
			binary.LittleEndian.PutUint32(db[entOff:], newIno)
			etcIn, err := f.ReadInode(etc)
			if err != nil {
				t.Fatal(err)
			}
			if f.HasMetadataCsum() {
				crc := disk.Crc32c(f.InodeSeed(etc, etcIn.Generation), db[:bs-direntTailSize])
				binary.LittleEndian.PutUint32(db[bs-4:], crc)
			}
			if err := f.WriteBlock(dirBlk, db); err != nil {
				t.Fatal(err)
			}

			// Delete the old inode.
			old, err := f.ReadInode(oldIno)
			if err != nil {
				t.Fatal(err)
			}
			oldRuns, err := f.extentRuns(oldIno, old)
			if err != nil || len(oldRuns) != 1 {
				t.Fatalf("old inode runs %v %v", oldRuns, err)
			}
			if err := f.FreeBlocks(oldRuns[0].Physical, uint64(oldRuns[0].Len)); err != nil {
				t.Fatal(err)
			}
			old.LinksCount = 0
			old.Dtime = 1700000000
			if err := f.WriteInode(oldIno, old); err != nil {
				t.Fatal(err)
			}
			if err := f.FreeInode(oldIno, false); err != nil {
				t.Fatal(err)
			}
			if err := f.Flush(); err != nil {
				t.Fatal(err)
			}

			out := dev.save(t)
			e2fsckClean(t, out)
			if got := debugfs(t, out, "cat /etc/hostname"); !strings.Contains(got, string(content)) {
				t.Fatalf("debugfs cat: %.200q", got)
			}
			if got := debugfs(t, out, fmt.Sprintf("testb %d %d", ext[0].Start, nblk)); strings.Contains(got, "not in use") {
				t.Fatalf("testb new blocks: %s", got)
			}
			if got := debugfs(t, out, fmt.Sprintf("testb %d", oldRuns[0].Physical)); !strings.Contains(got, "not in use") {
				t.Fatalf("testb old block: %s", got)
			}
			if got := debugfs(t, out, fmt.Sprintf("testi <%d>", oldIno)); !strings.Contains(got, "not in use") {
				t.Fatalf("testi old inode: %s", got)
			}
			if got := debugfs(t, out, "stat /etc/hostname"); !strings.Contains(got, fmt.Sprintf("Inode: %d ", newIno)) {
				t.Fatalf("stat: %s", got)
			}
			hdr, _ := dumpe2fs(t, out)
			wantFree := freeBlocks - nblk + uint64(oldRuns[0].Len)
			if hdr["Free blocks"] != fmt.Sprint(wantFree) || hdr["Free inodes"] != fmt.Sprint(freeInodes) {
				t.Fatalf("dumpe2fs free %s/%s, want %d/%d", hdr["Free blocks"], hdr["Free inodes"], wantFree, freeInodes)
			}
			f2, err := Open(loadDev(t, out), Options{})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if f2.FreeBlocksCount() != wantFree {
				t.Fatalf("reopen free blocks %d, want %d", f2.FreeBlocksCount(), wantFree)
			}
		})
	}
}

// TestExhaustInodes allocates every free inode (directories included),
// checks the out-of-inodes error and that a freed inode comes back first,
// then frees them all and checks the image with e2fsck.
func TestExhaustInodes(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	free := f.FreeInodesCount()
	var got []uint32
	for i := uint64(0); i < free; i++ {
		ino, err := f.AllocInode(InodeRequest{Parent: disk.RootIno, Dir: i%7 == 0})
		if err != nil {
			t.Fatalf("inode %d of %d: %v", i, free, err)
		}
		got = append(got, ino)
	}
	_, err = f.AllocInode(InodeRequest{})
	var se *SpaceError
	if !errors.Is(err, ErrNoInodes) || !errors.As(err, &se) || se.Need != 1 || se.Free != 0 {
		t.Fatalf("want ErrNoInodes, got %v", err)
	}
	if err := f.FreeInode(got[5], false); err != nil {
		t.Fatal(err)
	}
	if ino, err := f.AllocInode(InodeRequest{Parent: disk.RootIno}); err != nil || ino != got[5] {
		t.Fatalf("freed inode %d not reused: got %d, %v", got[5], ino, err)
	}
	for i, ino := range got {
		if err := f.FreeInode(ino, i%7 == 0); err != nil {
			t.Fatalf("free %d: %v", ino, err)
		}
	}
	if err := f.FreeInode(got[0], false); !errors.Is(err, ErrInvalid) {
		t.Fatalf("double free: %v", err)
	}
	if f.FreeInodesCount() != free {
		t.Fatalf("free inodes %d, want %d", f.FreeInodesCount(), free)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	e2fsckClean(t, dev.save(t))
}

func TestNoSpace(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	free := f.FreeBlocksCount()
	_, err = f.AllocBlocks(BlockRequest{N: free + 1})
	var se *SpaceError
	if !errors.Is(err, ErrNoSpace) || !errors.As(err, &se) || se.Need != free+1 || se.Free != free {
		t.Fatalf("want ErrNoSpace need %d free %d, got %v", free+1, free, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(free)) {
		t.Fatalf("error does not say what is free: %v", err)
	}
	// Take every free block in fragments, then give them back.
	ext, err := f.AllocBlocks(BlockRequest{N: free, Goal: 12345})
	if err != nil {
		t.Fatal(err)
	}
	if f.FreeBlocksCount() != 0 {
		t.Fatalf("%d blocks still free", f.FreeBlocksCount())
	}
	for _, e := range ext {
		if f.IsMetadata(e.Start) {
			t.Fatalf("allocated metadata block %d", e.Start)
		}
		if err := f.FreeBlocks(e.Start, e.Len); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.FreeBlocks(ext[0].Start, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("double free: %v", err)
	}
	if err := f.FreeBlocks(f.gds[0].InodeTable(), 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("freeing the inode table: %v", err)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	out := dev.save(t)
	e2fsckClean(t, out)
	if !bytes.Contains([]byte(debugfs(t, out, "stats")), []byte(fmt.Sprintf("Free blocks:              %d", free))) {
		t.Fatal("free block count changed after alloc+free")
	}
}

// TestExposedInodeSlotsZeroed fills a never-used inode table with garbage
// (as an image whose tables were never zeroed could hold), allocates an
// inode deep in it and frees it again: the slots now below bg_itable_unused
// must have been zeroed, or e2fsck would report them.
func TestExposedInodeSlotsZeroed(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const g = 2
	if st := f.GroupStats()[g]; st.Flags&disk.BgInodeUninit == 0 || st.Flags&disk.BgItableZeroed != 0 {
		t.Skipf("group %d flags %#x: need INODE_UNINIT without ITABLE_ZEROED", g, st.Flags)
	}
	table := f.gds[g].InodeTable()
	for b := uint64(0); b < f.geo.ItableBlocks; b++ {
		if err := f.WriteBlock(table+b, bytes.Repeat([]byte{0xA5}, int(f.BlockSize()))); err != nil {
			t.Fatal(err)
		}
	}
	ipg := f.Geometry().InodesPerGroup
	want := g*ipg + 6
	f.placement = fixedPlacement{ino: want}
	ino, err := f.AllocInode(InodeRequest{})
	if err != nil || ino != want {
		t.Fatalf("alloc %d: %v", ino, err)
	}
	if st := f.GroupStats()[g]; st.ItableUnused != ipg-6 || st.Flags&disk.BgInodeUninit != 0 {
		t.Fatalf("group %d after alloc: %+v", g, st)
	}
	if err := f.FreeInode(ino, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := uint32(1); i <= 6; i++ {
		in, err := f.ReadInode(g*ipg + i)
		if err != nil || in.Mode != 0 {
			t.Fatalf("inode %d not zeroed: %+v %v", g*ipg+i, in, err)
		}
	}
	e2fsckClean(t, dev.save(t))
}
