package fs

import (
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// TestInodeBlockSeesWrites: held, ReadInode serves inodes from the inode
// table blocks it read last, and a write through the FS (an inode, the whole
// block, or a run of blocks) is seen by the next read of that block's inodes.
func TestInodeBlockSeesWrites(t *testing.T) {
	f, err := Open(loadDev(t, buildImage(t, "4096", "8M")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.HoldInodeBlocks()()
	read := func() *disk.Inode {
		t.Helper()
		in, err := f.ReadInode(disk.RootIno)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	root := read()
	first := root.Mtime
	blk, _ := f.layout.InodeBlock(disk.RootIno)
	before, err := f.ReadBlock(blk)
	if err != nil {
		t.Fatal(err)
	}
	if c := &f.inodeBlk; c.n == 0 || blk < c.start || blk >= c.start+c.n {
		t.Fatalf("block %d not kept after ReadInode", blk)
	}
	root.Mtime++
	if err := f.WriteInode(disk.RootIno, root); err != nil {
		t.Fatal(err)
	}
	if got := read().Mtime; got != first+1 {
		t.Errorf("after WriteInode: mtime %d, wrote %d", got, first+1)
	}
	edited, err := f.ReadBlock(blk)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteBlock(blk, before); err != nil {
		t.Fatal(err)
	}
	if got := read().Mtime; got != first {
		t.Errorf("after WriteBlock: mtime %d, wrote %d", got, first)
	}
	if err := f.WriteBlocks(blk, edited); err != nil {
		t.Fatal(err)
	}
	if got := read().Mtime; got != first+1 {
		t.Errorf("after WriteBlocks: mtime %d, wrote %d", got, first+1)
	}
}
