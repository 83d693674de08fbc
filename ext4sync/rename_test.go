package ext4sync

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// A renamed file keeps its inode and its blocks: the sync writes no data,
// only directory and inode-table blocks. The reused inode takes all of
// the new path's metadata (here: its xattr is gone).
func TestRenameWritesNoData(t *testing.T) {
	t.Parallel()
	src := largeTreeWithBig(t)
	oldPath := filepath.Join(src, bigFile)
	if err := unix.Lsetxattr(oldPath, "user.test", []byte("value"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	base := ext4test.BuildImage(t, src, configs[0].img)
	img, _ := syncFile(t, base, src)

	data := make(map[int64]bool)
	for _, f := range strings.Fields(debugfsRun(t, img, "blocks /"+bigFile)) {
		b, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("debugfs blocks: %q", f)
		}
		data[b] = true
	}
	if len(data) != bigSize/4096 {
		t.Fatalf("big file has %d blocks", len(data))
	}

	newRel := "opt/renamed/big.bin"
	newPath := filepath.Join(src, newRel)
	if err := os.MkdirAll(filepath.Dir(newPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(oldPath, newPath); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lremovexattr(newPath, "user.test"); err != nil {
		t.Fatal(err)
	}
	dev, res := syncOverlay(t, img, src)
	changed := dev.ChangedBlocks()
	for _, b := range changed {
		if data[b] {
			t.Errorf("rename rewrote data block %d", b)
		}
	}
	// New dirs' blocks and inodes, two directory blocks, inode table
	// blocks, bitmaps, descriptors and the superblock: a handful.
	if len(changed) > 12 {
		t.Errorf("rename changed %d blocks: %v; touched %v", len(changed), changed, res.Touched)
	}
	out := filepath.Join(t.TempDir(), "out.ext4")
	if err := dev.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	ext4test.CheckImage(t, out, src)
	if got := debugfsRun(t, out, "blocks /"+newRel); got != debugfsRun(t, img, "blocks /"+bigFile) {
		t.Errorf("renamed file moved: blocks %s", got)
	}
}
