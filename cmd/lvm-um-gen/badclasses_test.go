package main

import (
	"archive/tar"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// TestBadInputClassesExit2 is the audit of issue 13's "every bad-input
// path exits 2 with one line": one row per class of bad base or rootfs
// the CLI can be given, each asserting exit 2, one line naming the input
// at fault and the problem, and nothing written. (The rows beside it:
// TestBadRootfsExit2 and TestTooManyHardLinksExit2 for what ext4 cannot
// store at 4 KiB blocks, TestInconsistentBaseRefused for a base whose
// metadata lies, TestBinaryBaseOfAnotherType for a .mender of another
// type, TestUsageErrors for flags.) Before this test, a symlink target
// of a block or more on a 1 KiB-block base exited 1.
func TestBadInputClassesExit2(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	small := filepath.Join(dir, "small")
	writeTree(t, small, map[string]string{"f": "a\n", "d/g": strings.Repeat("g", 20000)})
	b4 := filepath.Join(dir, "b4.ext4")
	mkfsImage(t, small, b4, "8M")
	b1 := filepath.Join(dir, "b1.ext4")
	mkfsImageWith(t, small, b1, "8M", "-b", "1024")
	inline := filepath.Join(dir, "inline.ext4")
	mkfsImageWith(t, small, inline, "8M", "-b", "4096", "-O", "inline_data")

	file := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	image, err := os.ReadFile(b4)
	if err != nil {
		t.Fatal(err)
	}
	edited := func(name string, edit func([]byte) []byte) string {
		return file(name, edit(append([]byte(nil), image...)))
	}
	art := filepath.Join(dir, "base.mender")
	writeBaseArtifact(t, b4, art)
	artBytes, err := os.ReadFile(art)
	if err != nil {
		t.Fatal(err)
	}

	// Rootfs archives: the file f, then the entries under test.
	f := tarEntry{hdr: tar.Header{Name: "f"}, data: "b\n"}
	arch := func(name string, es ...tarEntry) string {
		return file(name+".tar", tarBytes(t, append([]tarEntry{f}, es...)))
	}
	xattrs := func(name string, pax map[string]string) string {
		return arch(name, tarEntry{hdr: tar.Header{Name: "g", PAXRecords: pax}, data: "c\n"})
	}
	many := map[string]string{}
	for i := 0; i < 15; i++ {
		many[fmt.Sprintf("SCHILY.xattr.user.k%02d", i)] = strings.Repeat("v", 100)
	}
	valid := tarBytes(t, []tarEntry{f})
	badSum := append([]byte(nil), valid...)
	badSum[100] ^= 0x55 // f's mode field: the header checksum no longer matches
	truncated := tarBytes(t, []tarEntry{f, {hdr: tar.Header{Name: "g"}, data: strings.Repeat("z", 5000)}})[:3*512+100]
	var files []tarEntry
	for i := 0; i < 2500; i++ {
		files = append(files, tarEntry{hdr: tar.Header{Name: fmt.Sprintf("e%04d", i)}})
	}

	// A rootfs given as an ext4 image, with f's extent tree zeroed, and
	// cut short.
	rtree := filepath.Join(dir, "rtree")
	writeTree(t, rtree, map[string]string{"f": "b\n"})
	rimg := filepath.Join(dir, "rootfs.ext4")
	mkfsImage(t, rtree, rimg, "4M")
	rbad := filepath.Join(dir, "rootfs-bad.ext4")
	if err := copyFile(rimg, rbad); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ext4test.Tool(t, "debugfs"), "-w", "-R", "sif /f block[0] 0", rbad).CombinedOutput(); err != nil {
		t.Fatalf("debugfs sif: %v\n%s", err, out)
	}
	rimgBytes, err := os.ReadFile(rimg)
	if err != nil {
		t.Fatal(err)
	}
	rshort := file("rootfs-short.ext4", rimgBytes[:1<<20])

	cases := []struct {
		name         string
		base, rootfs string
		baseAtFault  bool // the base is at fault, not the rootfs
		want         string
	}{
		// The base.
		{"base missing", filepath.Join(dir, "nope"), small, true, "no such file"},
		{"base is a directory", small, small, true, "not a regular file"},
		{"base neither ext4 nor .mender", file("garbage", []byte(strings.Repeat("garbage!", 128))), small, true, "not an ext4 image or a .mender artifact"},
		{"base cut short", edited("short.ext4", func(b []byte) []byte { return b[:2<<20] }), small, true, "but the image has only"},
		{"base superblock checksum", edited("sbsum.ext4", func(b []byte) []byte { b[1024+0x3A] ^= 2; return b }), small, true, "superblock: checksum"},
		{"base unsupported feature", inline, small, true, "inline_data"},
		{"base .mender cut short", file("short.mender", artBytes[:len(artBytes)/2]), small, true, "corrupt artifact"},
		// The rootfs, whatever its kind.
		{"rootfs missing", b4, filepath.Join(dir, "nope"), false, "no such file"},
		{"rootfs neither dir, tar nor ext4", b4, file("garbage.tar", []byte(strings.Repeat("garbage!", 128))), false, "not a directory, tar archive or ext4 image"},
		{"rootfs ext4 image corrupt", b4, rbad, false, "corrupt extent tree"},
		{"rootfs ext4 image cut short", b4, rshort, false, "truncated"},
		// Tar archives ext4 has no meaning for.
		{"tar header checksum", b4, file("badsum.tar", badSum), false, "not a directory, tar archive or ext4 image"},
		{"tar cut short", b4, file("cut.tar", truncated), false, "truncated or corrupt archive"},
		{"tar absolute path", b4, arch("abs", tarEntry{hdr: tar.Header{Name: "/abs"}}), false, "absolute path"},
		{"tar .. path", b4, arch("dotdot", tarEntry{hdr: tar.Header{Name: "../x"}}), false, `".." path component`},
		{"tar parent is a file", b4, arch("parent", tarEntry{hdr: tar.Header{Name: "f/x"}}), false, "missing parent directory"},
		{"tar hard link to nothing", b4, arch("nolink", tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "nope"}}), false, "bad hard link"},
		{"tar hard link to a directory", b4, arch("dirlink", tarEntry{hdr: tar.Header{Name: "d", Typeflag: tar.TypeDir, Mode: 0o755}}, tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "d"}}), false, "bad hard link"},
		{"tar unknown entry type", b4, arch("type", tarEntry{hdr: tar.Header{Name: "z", Typeflag: 'Z'}}), false, "unknown entry type"},
		{"tar root is not a directory", b4, arch("root", tarEntry{hdr: tar.Header{Name: "."}}), false, "root entry"},
		{"tar group beyond 32 bits", b4, arch("gid", tarEntry{hdr: tar.Header{Name: "g", Gid: 1 << 40}}), false, "owner"},
		{"tar negative owner", b4, arch("uid", tarEntry{hdr: tar.Header{Name: "g", Uid: -5, Format: tar.FormatGNU}}), false, "owner -5"},
		{"tar mode beyond 32 bits", b4, arch("mode", tarEntry{hdr: tar.Header{Name: "g", Mode: 1 << 40, Format: tar.FormatGNU}}), false, "mode"},
		{"tar negative mode", b4, arch("negmode", tarEntry{hdr: tar.Header{Name: "g", Mode: -1, Format: tar.FormatGNU}}), false, "mode -01"},
		{"tar empty symlink target", b4, arch("emptylink", tarEntry{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink}}), false, "symlink target of 0 bytes"},
		{"tar ACL text", b4, xattrs("acl", map[string]string{"SCHILY.acl.access": "bogus"}), false, "SCHILY.acl.access"},
		{"tar empty xattr name", b4, xattrs("xname", map[string]string{"SCHILY.xattr.": "v"}), false, `xattr name ""`},
		// What the base's filesystem cannot hold.
		{"1 KiB blocks: xattr value of 1000 bytes", b1, xattrs("x1000", map[string]string{"SCHILY.xattr.user.big": strings.Repeat("x", 1000)}), false, "user.big (1000 bytes)"},
		{"1 KiB blocks: xattr value of 4048 bytes", b1, xattrs("x4048", map[string]string{"SCHILY.xattr.user.big": strings.Repeat("x", 4048)}), false, "user.big (4048 bytes)"},
		{"1 KiB blocks: too many xattrs", b1, xattrs("xmany", many), false, "left without room"},
		{"1 KiB blocks: symlink target of 1024 bytes", b1, arch("link1k", tarEntry{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("t", 1024)}}), false, "more than ext4 holds with 1024-byte blocks"},
		{"more files than free inodes", b4, arch("inodes", files...), false, "out of inodes"},
		{"more data than free blocks", b4, arch("blocks", tarEntry{hdr: tar.Header{Name: "big"}, data: strings.Repeat("q", 7<<20)}), false, "out of blocks"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			input := "--rootfs " + c.rootfs
			if c.baseAtFault {
				input = "--base " + c.base
			}
			if c.name == "rootfs missing" {
				input = "--rootfs"
			}
			refusedAsBadInput(t, c.base, c.rootfs, filepath.Join(dir, fmt.Sprintf("out%d", i)), input, c.want)
		})
	}
	if left := leftovers(t, tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
