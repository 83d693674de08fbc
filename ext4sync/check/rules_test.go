package check_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check/checktest"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// ruleBase builds the small base every rule test damages: 1 KiB blocks,
// metadata_csum, a file of three blocks, two files with an xattr block
// each, an empty file, two directories.
func ruleBase(t *testing.T) string {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs", "dumpe2fs")
	src := t.TempDir()
	files := map[string]string{
		"dir/file1": strings.Repeat("0123456789", 300), "dir/file2": "two\n", "empty": "",
		"sub/inner": "in\n", "big": "x\n", "big2": "y\n",
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(t.TempDir(), "base.ext4")
	if err := ext4test.BuildImageAt(img, src, ext4test.ImageOptions{BlockSize: 1024, Size: 8 << 20, NormalizeTimes: true}); err != nil {
		t.Fatal(err)
	}
	// The xattrs are set by debugfs, not on the host (whose TMPDIR may not
	// hold user xattrs): too large for the inode, each gets a block.
	debugfs(t, img, true, "ea_set /big user.x "+strings.Repeat("big", 100), "ea_set /big2 user.x "+strings.Repeat("big2", 100))
	if err := ext4test.FsckErr(img); err != nil {
		t.Fatal(err)
	}
	if err := check.File(img); err != nil {
		t.Fatalf("clean base refused: %v", err)
	}
	return img
}

// debugfs runs commands on img (-w: in write mode).
func debugfs(t *testing.T, img string, write bool, cmds ...string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(script, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", script, img}
	if write {
		args = append([]string{"-w"}, args...)
	}
	out, err := exec.Command("debugfs", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs %q: %v\n%s", cmds, err, out)
	}
	return string(out)
}

// number extracts the first group of re from debugfs's or dumpe2fs's output.
func number(t *testing.T, out, re string) uint64 {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in:\n%s", re, out)
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func inoOf(t *testing.T, img, path string) uint64 {
	return number(t, debugfs(t, img, false, "stat "+path), `Inode: (\d+)`)
}

func bmapOf(t *testing.T, img, path string, lblk int) uint64 {
	return number(t, debugfs(t, img, false, fmt.Sprintf("bmap %s %d", path, lblk)), `(?m)^(\d+)\s*$`)
}

func dumpe2fs(t *testing.T, img string) string {
	out, err := exec.Command("dumpe2fs", img).CombinedOutput()
	if err != nil {
		t.Fatalf("dumpe2fs: %v\n%s", err, out)
	}
	return string(out)
}

// rule is one consistency rule, a base crafted to break it, and the
// exact error the checker must give.
type rule struct {
	name  string
	craft func(t *testing.T, img string) (want string)
	// strict marks a rule e2fsck -fn reports but does not fail on (or
	// leaves to the journal replay): the checker refuses on purpose.
	strict bool
}

// TestRules: one crafted base per consistency rule, each refused with
// exactly the expected error, and each also rejected by e2fsck -fn.
func TestRules(t *testing.T) {
	clean := ruleBase(t)
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			img := filepath.Join(t.TempDir(), "img")
			data, err := os.ReadFile(clean)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(img, data, 0o644); err != nil {
				t.Fatal(err)
			}
			want := r.craft(t, img)
			err = check.File(img)
			if err == nil || err.Error() != want {
				t.Fatalf("got  %v\nwant %s", err, want)
			}
			fsck := ext4test.FsckErr(img)
			switch {
			case fsck == nil && !r.strict:
				t.Errorf("e2fsck -fn accepts the crafted base; the rule is stricter than e2fsck")
			case fsck != nil && r.strict:
				t.Errorf("e2fsck -fn rejects a base the rule calls stricter than e2fsck: %v", fsck)
			}
		})
	}
}

// patch rewrites bytes of a metadata block with its checksums fixed.
func patch(t *testing.T, img, kind string, blk uint64, off int, data []byte) {
	t.Helper()
	im, err := checktest.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	tg, ok := im.Find(kind, blk)
	if !ok {
		t.Fatalf("no %s at block %d", kind, blk)
	}
	if err := im.Patch(img, tg, off, data); err != nil {
		t.Fatal(err)
	}
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

var rules = []rule{
	{"file of 2 GiB without large_file", func(t *testing.T, img string) string {
		// The 4 KiB equivalent is any mkfs base with large_file cleared:
		// its resize inode is over 2 GiB (torture seed 4, run 784).
		ino := inoOf(t, img, "/dir/file1")
		debugfs(t, img, true, "sif /dir/file1 size 2147483648", "feature -large_file")
		return fmt.Sprintf("ext4: inconsistent: inode %d (inode table block %d): i_size 2147483648 (2 GiB or more) without the large_file feature", ino, itableBlock(t, img, ino))
	}, false},
	{"block in use marked free", func(t *testing.T, img string) string {
		blk := bmapOf(t, img, "/dir", 0)
		bb := number(t, dumpe2fs(t, img), `Block bitmap at (\d+)`)
		debugfs(t, img, true, fmt.Sprintf("freeb %d", blk))
		return fmt.Sprintf("ext4: inconsistent: group 0 block bitmap (block %d): block %d is used by inode %d data (logical block 0) but marked free",
			bb, blk, inoOf(t, img, "/dir"))
	}, false},
	{"free block marked in use", func(t *testing.T, img string) string {
		bb := number(t, dumpe2fs(t, img), `Block bitmap at (\d+)`)
		debugfs(t, img, true, "setb 5000")
		return fmt.Sprintf("ext4: inconsistent: group 0 block bitmap (block %d): block 5000 is marked in use, but nothing uses it", bb)
	}, false},
	{"block claimed twice", func(t *testing.T, img string) string {
		other := bmapOf(t, img, "/dir/file2", 0)
		ino := inoOf(t, img, "/dir/file1")
		// i_block[5] is ee_start_lo of the root's first extent.
		debugfs(t, img, true, fmt.Sprintf("set_inode_field /dir/file1 block[5] %d", other))
		// file1 (scanned first) now claims file2's block as its logical 0.
		return fmt.Sprintf("ext4: inconsistent: inode %d data (logical block 0): block %d is also used by inode %d data (logical block 0) (claimed twice)",
			inoOf(t, img, "/dir/file2"), other, ino)
	}, false},
	{"extent maps the inode table", func(t *testing.T, img string) string {
		it := number(t, dumpe2fs(t, img), `Inode table at (\d+)`)
		ino := inoOf(t, img, "/dir/file2")
		debugfs(t, img, true, fmt.Sprintf("set_inode_field /dir/file2 block[5] %d", it))
		return fmt.Sprintf("ext4: inconsistent: inode %d data (logical block 0): block %d is also used by group 0 inode table (claimed twice)", ino, it)
	}, false},
	{"inode in use marked free", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file2")
		ib := number(t, dumpe2fs(t, img), `Inode bitmap at (\d+)`)
		debugfs(t, img, true, fmt.Sprintf("freei <%d>", ino))
		return fmt.Sprintf("ext4: inconsistent: group 0 inode bitmap (block %d): inode %d is in use but marked free", ib, ino)
	}, false},
	{"free inode marked in use", func(t *testing.T, img string) string {
		ib := number(t, dumpe2fs(t, img), `Inode bitmap at (\d+)`)
		debugfs(t, img, true, "seti <30>")
		return fmt.Sprintf("ext4: inconsistent: group 0 inode bitmap (block %d): inode 30 is marked in use, but is not in use", ib)
	}, false},
	{"extent entries exceed eh_max", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file1")
		// i_block[0]: eh_magic 0xF30A, eh_entries 5 (> eh_max 4).
		debugfs(t, img, true, fmt.Sprintf("set_inode_field /dir/file1 block[0] %d", 0xF30A|5<<16))
		return fmt.Sprintf("ext4: inconsistent: inode %d extent tree: ext4: inode %d extent node i_block: 5 entries exceed eh_max 4: corrupt extent tree", ino, ino)
	}, false},
	{"extents out of order", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file1")
		// Split the one extent of three blocks into [0,1) and [1,3) written
		// in reverse logical order: entries 2 (i_block[1] low half).
		blk := bmapOf(t, img, "/dir/file1", 0)
		debugfs(t, img, true,
			fmt.Sprintf("set_inode_field /dir/file1 block[0] %d", 0xF30A|2<<16),
			fmt.Sprintf("set_inode_field /dir/file1 block[3] %d", 1),     // ee_block 1
			fmt.Sprintf("set_inode_field /dir/file1 block[4] %d", 2),     // ee_len 2
			fmt.Sprintf("set_inode_field /dir/file1 block[5] %d", blk+1), // ee_start
			"set_inode_field /dir/file1 block[6] 0",                      // ee_block 0
			"set_inode_field /dir/file1 block[7] 1",                      // ee_len 1
			fmt.Sprintf("set_inode_field /dir/file1 block[8] %d", blk))
		return fmt.Sprintf("ext4: inconsistent: inode %d extent tree: ext4: inode %d extent node i_block: extent 1 [0, 1) overlaps, is out of order or leaves [3, 4294967296): corrupt extent tree", ino, ino)
	}, false},
	{"i_size short of the mapped blocks", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file1")
		debugfs(t, img, true, "set_inode_field /dir/file1 size 10")
		return fmt.Sprintf("ext4: inconsistent: inode %d (inode table block %d): i_size 10, but logical block 2 is mapped", ino, itableBlock(t, img, ino))
	}, false},
	{"entry names a free inode", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file2")
		dirIno := inoOf(t, img, "/dir")
		debugfs(t, img, true, "rm /dir/file2", fmt.Sprintf("link <%d> /dir/ghost", ino))
		blk := bmapOf(t, img, "/dir", 0)
		return fmt.Sprintf("ext4: inconsistent: directory inode %d block %d (logical 0): entry \"ghost\" (inode %d) names an inode that is not in use", dirIno, blk, ino)
	}, false},
	{"entry file type differs from the inode", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/empty")
		debugfs(t, img, true, "set_inode_field /empty flags 0", "set_inode_field /empty mode 010644")
		return fmt.Sprintf("ext4: inconsistent: directory inode 2 block %d (logical 0): entry \"empty\" (inode %d) has file type 1, but the inode's type is 5",
			bmapOf(t, img, "/", 0), ino)
	}, false},
	{"link count", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file2")
		debugfs(t, img, true, "set_inode_field /dir/file2 links_count 3")
		return fmt.Sprintf("ext4: inconsistent: inode %d (inode table block %d): i_links_count 3, but 1 directory entries name it", ino, itableBlock(t, img, ino))
	}, false},
	{"directory with two names", func(t *testing.T, img string) string {
		sub := inoOf(t, img, "/sub")
		debugfs(t, img, true, "link /sub /dir/sub2")
		return fmt.Sprintf("ext4: inconsistent: directory inode %d block %d (logical 0): entry \"sub2\" (inode %d) is a second name for a directory (also in directory 2)",
			inoOf(t, img, "/dir"), bmapOf(t, img, "/dir", 0), sub)
	}, false},
	{"directory not connected", func(t *testing.T, img string) string {
		sub := inoOf(t, img, "/sub")
		debugfs(t, img, true, "unlink /sub")
		return fmt.Sprintf("ext4: inconsistent: directory inode %d: no entry names it (not connected to the root)", sub)
	}, false},
	{"group free blocks count", func(t *testing.T, img string) string {
		free := number(t, dumpe2fs(t, img), `(\d+) free blocks, \d+ free inodes`)
		debugfs(t, img, true, fmt.Sprintf("set_bg 0 free_blocks_count %d", free+1), "set_bg 0 checksum calc")
		return fmt.Sprintf("ext4: inconsistent: group 0 descriptor (block 2): %d free blocks, but the bitmap has %d", free+1, free)
	}, false},
	{"group directory count", func(t *testing.T, img string) string {
		debugfs(t, img, true, "set_bg 0 used_dirs_count 9", "set_bg 0 checksum calc")
		return "ext4: inconsistent: group 0 descriptor (block 2): 9 directories, but 4 are in use"
	}, false},
	{"superblock free blocks count", func(t *testing.T, img string) string {
		free := number(t, dumpe2fs(t, img), `Free blocks:\s+(\d+)`)
		debugfs(t, img, true, fmt.Sprintf("ssv free_blocks_count %d", free-7))
		return fmt.Sprintf("ext4: inconsistent: superblock: %d free blocks, but the groups have %d", free-7, free)
	}, true},
	{"BLOCK_UNINIT on the last group", func(t *testing.T, img string) string {
		debugfs(t, img, true, "set_bg 0 flags 2", "set_bg 0 checksum calc")
		return "ext4: inconsistent: group 0 descriptor (block 2): BLOCK_UNINIT on the last group"
	}, false},
	{"xattr block shared beyond its refcount", func(t *testing.T, img string) string {
		x := number(t, debugfs(t, img, false, "stat /big"), `File ACL: (\d+)`)
		// big2 now names big's block (its own is then unused, which pass 5
		// would report later).
		debugfs(t, img, true, fmt.Sprintf("set_inode_field /big2 file_acl %d", x))
		return fmt.Sprintf("ext4: inconsistent: xattr block %d: h_refcount 1, but 2 inodes use it (first inode %d)", x, inoOf(t, img, "/big"))
	}, false},
	{"i_extra_isize below s_min_extra_isize", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file2")
		debugfs(t, img, true, "set_inode_field /dir/file2 extra_isize 0")
		return fmt.Sprintf("ext4: inconsistent: inode %d (inode table block %d): i_extra_isize 0 below s_min_extra_isize 32 (extra_isize feature)", ino, itableBlock(t, img, ino))
	}, true},
	{"in-use inode with dtime", func(t *testing.T, img string) string {
		ino := inoOf(t, img, "/dir/file2")
		debugfs(t, img, true, "set_inode_field /dir/file2 dtime 1700000000")
		return fmt.Sprintf("ext4: inconsistent: inode %d (inode table block %d): in use (1 links) but i_dtime is 1700000000", ino, itableBlock(t, img, ino))
	}, false},
	{"\"..\" names the wrong directory", func(t *testing.T, img string) string {
		sub := inoOf(t, img, "/sub")
		dir := inoOf(t, img, "/dir")
		// ".." is the second record: inode at byte 12 of block 0.
		patch(t, img, checktest.KindDirLeaf, bmapOf(t, img, "/sub", 0), 12, le32(uint32(dir)))
		return fmt.Sprintf("ext4: inconsistent: directory inode %d: \"..\" names inode %d, but its parent is 2", sub, dir)
	}, false},
	{"name twice in a block", func(t *testing.T, img string) string {
		// Rename "file2" to "file1" in place: same length, same block.
		blk := bmapOf(t, img, "/dir", 0)
		b := readBlock(t, img, blk, 1024)
		i := strings.Index(string(b), "file2")
		if i < 0 {
			t.Fatal("no file2 in the directory block")
		}
		patch(t, img, checktest.KindDirLeaf, blk, i+4, []byte("1"))
		return fmt.Sprintf("ext4: inconsistent: directory inode %d block %d (logical 0): name \"file1\" appears twice", inoOf(t, img, "/dir"), blk)
	}, false},
	{"bitmap checksum", func(t *testing.T, img string) string {
		ib := number(t, dumpe2fs(t, img), `Inode bitmap at (\d+)`)
		b := readBlock(t, img, ib, 1024)
		b[100] ^= 0x10 // an unused inode's bit, checksum left stale
		writeBlock(t, img, ib, b)
		return fmt.Sprintf("ext4: inconsistent: group 0 inode bitmap (block %d): checksum mismatch", ib)
	}, false},
	{"journal needs recovery", func(t *testing.T, img string) string {
		j := number(t, debugfs(t, img, false, "bmap <8> 0"), `(?m)^(\d+)\s*$`)
		patch(t, img, checktest.KindJournal, j, 0x1C, []byte{0, 0, 0, 1}) // s_start = 1
		return fmt.Sprintf("ext4: not clean: journal superblock (block %d): log not empty (s_start 1): needs recovery; run e2fsck first", j)
	}, true},
}

// itableBlock is the inode table block holding inode ino (group 0).
func itableBlock(t *testing.T, img string, ino uint64) uint64 {
	it := number(t, dumpe2fs(t, img), `Inode table at (\d+)`)
	return it + (ino-1)*256/1024
}

func readBlock(t *testing.T, img string, blk uint64, bs int) []byte {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, bs)
	if _, err := f.ReadAt(b, int64(blk)*int64(bs)); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeBlock(t *testing.T, img string, blk uint64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(blk)*int64(len(b))); err != nil {
		t.Fatal(err)
	}
}
