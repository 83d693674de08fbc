package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarEntry is one entry of a crafted rootfs archive.
type tarEntry struct {
	hdr  tar.Header
	data string
}

func writeTar(t *testing.T, path string, entries []tarEntry) {
	t.Helper()
	if err := os.WriteFile(path, tarBytes(t, entries), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarBytes is a PAX archive of entries; a regular file's size is its
// data's, a mode of 0 is 0644 (GNU format when an entry asks for it).
func tarBytes(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Size = int64(len(e.data))
		if h.Format == tar.FormatUnknown {
			h.Format = tar.FormatPAX
		}
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// smallBase writes a small Yocto-like base under dir.
func smallBase(t *testing.T, dir string) string {
	t.Helper()
	t.Setenv("TMPDIR", dir)
	small := filepath.Join(dir, "small")
	writeTree(t, small, map[string]string{"f": "a\n"})
	base := filepath.Join(dir, "base.ext4")
	mkfsImage(t, small, base, "8M")
	return base
}

// generateRefused runs generate from base with rootfs into a new
// directory out and checks it is bad input (exit 2) with one line naming
// --rootfs and holding want, and that nothing was written.
func generateRefused(t *testing.T, base, rootfs, out, want string) {
	t.Helper()
	refusedAsBadInput(t, base, rootfs, out, "--rootfs "+rootfs, want)
}

// refusedAsBadInput runs generate from base with rootfs into a new
// directory out and checks it is bad input (exit 2) with one line holding
// input (the flag and path at fault) and want, and that nothing was
// written to out.
func refusedAsBadInput(t *testing.T, base, rootfs, out, input, want string) {
	t.Helper()
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, newBuilder: newEngineBuilder, getenv: func(string) string { return "" }}
	code := a.run(context.Background(), []string{"generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "32MiB",
		"-n", "v2", "-t", "d", "-o", filepath.Join(out, "a.mender"), "--image-out", filepath.Join(out, "a.ext4")})
	if code != exitUsage {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	oneErrorLine(t, stderr.String())
	for _, w := range []string{input, want} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr %q lacks %q", stderr.String(), w)
		}
	}
	if es, _ := os.ReadDir(out); len(es) != 0 {
		t.Fatalf("left behind %d files", len(es))
	}
}

// TestBadRootfsExit2: a rootfs holding something ext4 cannot store is bad
// input: exit 2, one line naming --rootfs and the problem, nothing
// written. (Before issue 13 an xattr value of 4048 bytes on a 4 KiB-block
// base, too many xattrs and a malformed POSIX ACL exited 1, and a device
// number beyond ext4's 12-bit major silently became 0:0.)
func TestBadRootfsExit2(t *testing.T) {
	dir := t.TempDir()
	base := smallBase(t, dir)
	reg := func(name string, pax map[string]string) tarEntry {
		return tarEntry{hdr: tar.Header{Name: name, PAXRecords: pax}, data: "b\n"}
	}
	many := map[string]string{}
	for i := 0; i < 60; i++ {
		many["SCHILY.xattr.user.k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26))] = strings.Repeat("v", 100)
	}
	cases := []struct {
		name  string
		entry tarEntry
		want  string
	}{
		{"xattr value larger than a block can hold", reg("g", map[string]string{"SCHILY.xattr.user.big": strings.Repeat("x", 4048)}), "user.big (4048 bytes)"},
		{"more xattrs than the inode and a block hold", reg("g", many), "xattrs do not fit"},
		{"malformed POSIX ACL", reg("g", map[string]string{"SCHILY.xattr.system.posix_acl_access": "\x02\x00\x00\x00garbage!"}), "bad POSIX ACL"},
		{"device major beyond 12 bits", tarEntry{hdr: tar.Header{Name: "c", Typeflag: tar.TypeChar, Devmajor: 1 << 20, Devminor: 1}}, "device number"},
		{"device minor beyond 20 bits", tarEntry{hdr: tar.Header{Name: "c", Typeflag: tar.TypeBlock, Devmajor: 1, Devminor: 1 << 20}}, "device number"},
		{"symlink target too long", tarEntry{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("t", 5000)}}, "symlink target"},
		{"name too long", reg("d/"+strings.Repeat("n", 300), nil), "too long"},
		{"xattr name too long", reg("g", map[string]string{"SCHILY.xattr.user." + strings.Repeat("n", 300): "v"}), "xattr name"},
		{"owner beyond 32 bits", tarEntry{hdr: tar.Header{Name: "g", Uid: 1 << 40}, data: "b\n"}, "owner"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rootfs := filepath.Join(dir, fmt.Sprintf("rootfs%d.tar", i))
			writeTar(t, rootfs, []tarEntry{{hdr: tar.Header{Name: "f"}, data: "a\n"}, c.entry})
			generateRefused(t, base, rootfs, filepath.Join(dir, fmt.Sprintf("out%d", i)), c.want)
		})
	}
}

// TestTooManyHardLinksExit2: a rootfs file with more names than ext4's
// 65000 hard links is bad input. (Before, i_links_count wrapped and the
// consistency check of the built image stopped the release with exit 1.)
func TestTooManyHardLinksExit2(t *testing.T) {
	dir := t.TempDir()
	base := smallBase(t, dir)
	entries := []tarEntry{{hdr: tar.Header{Name: "f"}, data: "a\n"}}
	for d := 0; d < 261; d++ {
		entries = append(entries, tarEntry{hdr: tar.Header{Name: fmt.Sprintf("d%03d", d), Typeflag: tar.TypeDir, Mode: 0o755}})
		for i := 0; i < 250; i++ {
			entries = append(entries, tarEntry{hdr: tar.Header{Name: fmt.Sprintf("d%03d/l%03d", d, i), Typeflag: tar.TypeLink, Linkname: "f"}})
		}
	}
	rootfs := filepath.Join(dir, "links.tar")
	writeTar(t, rootfs, entries)
	generateRefused(t, base, rootfs, filepath.Join(dir, "out"), "65251 hard links, more than ext4's 65000")
}
