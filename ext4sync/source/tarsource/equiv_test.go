package tarsource

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// fixtureDir builds a rootfs-like tree with every node kind tar can hold:
// owners, setuid/sticky/setgid, hard links, symlinks, devices, FIFOs,
// xattrs (user, security.capability, an ACL) and a sparse file. Devices
// and ownership need root; without it they are left out.
func fixtureDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	p := func(rel string) string { return filepath.Join(root, rel) }
	file := func(rel string, data []byte, mode uint32) {
		must(t, os.MkdirAll(filepath.Dir(p(rel)), 0o755))
		must(t, os.WriteFile(p(rel), data, 0o600))
		must(t, unix.Chmod(p(rel), mode))
	}
	xattr := func(rel, name string, value []byte) {
		if err := unix.Lsetxattr(p(rel), name, value, 0); err != nil {
			t.Logf("xattr %s on %s: %v (left out)", name, rel, err)
		}
	}
	root0 := os.Geteuid() == 0
	file("bin/su", []byte("#!/bin/sh\necho su\n"), 0o4755)
	file("bin/ping", bytes.Repeat([]byte("elf"), 5000), 0o755)
	xattr("bin/ping", "security.capability", capValue)
	file("etc/hosts", []byte("127.0.0.1 localhost\n"), 0o644)
	xattr("etc/hosts", "user.mime", []byte("text/plain"))
	xattr("etc/hosts", "system.posix_acl_access", aclVFS)
	must(t, os.Link(p("etc/hosts"), p("etc/hosts.link")))
	must(t, os.MkdirAll(p("usr/share/doc"), 0o755))
	must(t, os.Link(p("etc/hosts"), p("usr/share/doc/hosts")))
	file("etc/empty", nil, 0o600)
	must(t, os.Symlink("../etc/hosts", p("bin/hosts")))
	must(t, os.Symlink(strings.Repeat("long/", 150)+"end", p("bin/long")))
	must(t, os.Mkdir(p("tmp"), 0o755))
	must(t, unix.Chmod(p("tmp"), 0o1777))
	must(t, os.Mkdir(p("sgid"), 0o755))
	must(t, unix.Chmod(p("sgid"), 0o2775))
	must(t, os.Mkdir(p("run"), 0o755))
	must(t, unix.Mkfifo(p("run/fifo"), 0o620))
	must(t, unix.Chmod(p("run/fifo"), 0o620))
	// No FIFO hard link: GNU tar archives those as separate FIFOs
	// (TestFeatures covers linked FIFOs).
	// A sparse file: data, a hole of 1 MiB, data, a trailing hole.
	sparse := make([]byte, 3<<20)
	copy(sparse, "head")
	copy(sparse[2<<20:], bytes.Repeat([]byte("mid"), 100))
	f, err := os.Create(p("var/sparse"))
	if errors.Is(err, os.ErrNotExist) {
		must(t, os.MkdirAll(p("var"), 0o755))
		f, err = os.Create(p("var/sparse"))
	}
	must(t, err)
	_, err = f.WriteAt(sparse[:4], 0)
	must(t, err)
	_, err = f.WriteAt(sparse[2<<20:2<<20+300], 2<<20)
	must(t, err)
	must(t, f.Truncate(int64(len(sparse))))
	must(t, f.Close())
	if root0 {
		must(t, os.Mkdir(p("dev"), 0o755))
		must(t, unix.Mknod(p("dev/tty"), unix.S_IFCHR|0o666, int(unix.Mkdev(5, 0))))
		must(t, unix.Mknod(p("dev/sda1"), unix.S_IFBLK|0o660, int(unix.Mkdev(8, 1))))
		must(t, unix.Chmod(p("dev/tty"), 0o666))
		must(t, unix.Chmod(p("dev/sda1"), 0o660))
		must(t, os.Lchown(p("dev/sda1"), 0, 6))
		must(t, os.Lchown(p("etc/hosts"), 1000, 100))
		must(t, os.Lchown(p("bin/hosts"), 1000, 1000))
		must(t, os.Lchown(p("sgid"), 33, 33))
		for _, rel := range []string{"bin/su", "bin/ping", "etc/empty"} {
			must(t, os.Lchown(p(rel), 0, 0))
		}
		must(t, os.Lchown(root, 0, 0))
	}
	// Fixed mtimes with nanoseconds, deepest first so directories keep
	// theirs.
	var all []string
	must(t, filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		all = append(all, path)
		return err
	}))
	sort.Sort(sort.Reverse(sort.StringSlice(all)))
	for i, path := range all {
		ts := unix.Timespec{Sec: 1700000000 + int64(i), Nsec: int64(i*7919+1) % 1e9}
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	}
	return root
}

// goTar writes the directory's tree (as dirsource reads it) with Go's tar
// writer: PAX, xattrs as SCHILY.xattr records, hard links as TypeLink
// entries naming the group's first path.
func goTar(t *testing.T, root string, dt *tree.Tree) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "go.tar")
	f, err := os.Create(out)
	must(t, err)
	defer f.Close()
	tw := tar.NewWriter(f)
	firstOf := map[uint64]string{}
	for _, n := range dt.Nodes {
		name := n.Path
		if name == "" {
			name = "."
		}
		h := &tar.Header{Name: name, Mode: int64(n.Mode), Uid: int(n.UID), Gid: int(n.GID),
			ModTime: time.Unix(n.Mtime.Sec, int64(n.Mtime.Nsec)), Format: tar.FormatPAX}
		if len(n.Xattrs) > 0 {
			h.PAXRecords = map[string]string{}
			for _, x := range n.Xattrs {
				h.PAXRecords[paxSchilyXattr+x.Name] = string(x.Value)
			}
		}
		if first, ok := firstOf[n.LinkID]; ok && n.LinkID != 0 {
			h.Typeflag, h.Linkname, h.PAXRecords = tar.TypeLink, first, nil
			must(t, tw.WriteHeader(h))
			continue
		}
		firstOf[n.LinkID] = n.Path
		switch n.Kind {
		case tree.Dir:
			h.Typeflag = tar.TypeDir
		case tree.Regular:
			h.Typeflag, h.Size = tar.TypeReg, n.Size
		case tree.Symlink:
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.Target
		case tree.CharDev, tree.BlockDev:
			h.Typeflag = tar.TypeChar
			if n.Kind == tree.BlockDev {
				h.Typeflag = tar.TypeBlock
			}
			h.Devmajor, h.Devminor = int64(n.Major), int64(n.Minor)
		case tree.FIFO:
			h.Typeflag = tar.TypeFifo
		default:
			t.Fatalf("%s: kind %s has no tar form", n.Path, n.Kind)
		}
		must(t, tw.WriteHeader(h))
		if n.Kind == tree.Regular {
			data, err := os.ReadFile(filepath.Join(root, n.Path))
			must(t, err)
			_, err = tw.Write(data)
			must(t, err)
		}
	}
	must(t, tw.Close())
	return out
}

// gnuTar archives the directory with GNU tar as a release build would.
func gnuTar(t *testing.T, root string, format string) string {
	t.Helper()
	bin := ext4test.Tool(t, "tar")
	if out, _ := exec.Command(bin, "--version").Output(); !bytes.Contains(out, []byte("GNU tar")) {
		t.Skip("tar is not GNU tar")
	}
	out := filepath.Join(t.TempDir(), "gnu.tar")
	args := []string{"--format=" + format, "--numeric-owner", "-S", "-C", root, "-cpf", out, "."}
	if format == "posix" {
		args = append([]string{"--xattrs", "--xattrs-include=*", "--acls"}, args...)
	}
	cmd := exec.Command(bin, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar %v: %v\n%s", args, err, msg)
	}
	return out
}

// sameTrees compares paths, metadata, xattrs, link groups and contents;
// dirsource's sparse segments are not compared (tar reads holes as
// zeros), the bytes are.
func sameTrees(t *testing.T, label string, got, want *tree.Tree, metadata bool) {
	t.Helper()
	strip := func(tr *tree.Tree) []tree.Node {
		var out []tree.Node
		for _, n := range tr.Nodes {
			c := *n
			c.Data, c.LinkID = nil, 0
			if !metadata {
				c = tree.Node{Path: c.Path, Kind: c.Kind, Size: c.Size, Target: c.Target}
			}
			out = append(out, c)
		}
		return out
	}
	g, w := strip(got), strip(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d nodes, want %d", label, len(g), len(w))
	}
	for i := range g {
		if !reflect.DeepEqual(g[i], w[i]) {
			t.Errorf("%s: node differs\n got %+v\nwant %+v", label, g[i], w[i])
		}
	}
	if gl, wl := linkGroups(got), linkGroups(want); !reflect.DeepEqual(gl, wl) {
		t.Errorf("%s: link groups %q, want %q", label, gl, wl)
	}
	gc, wc := contentsOf(t, got), contentsOf(t, want)
	for path, data := range wc {
		if !bytes.Equal(gc[path], data) {
			t.Errorf("%s: content of %s differs (%d bytes, want %d)", label, path, len(gc[path]), len(data))
		}
	}
	if len(gc) != len(wc) {
		t.Errorf("%s: %d files with content, want %d", label, len(gc), len(wc))
	}
}

// TestEquivalentToDirectory: a directory, the same directory tarred by
// Go's writer and by GNU tar all read as the same tree.
func TestEquivalentToDirectory(t *testing.T) {
	root := fixtureDir(t)
	dt, err := dirsource.Read(root, dirsource.Options{})
	must(t, err)
	if n := dt.Lookup("var/sparse"); n.Data == nil {
		t.Logf("this filesystem did not keep var/sparse sparse")
	}
	tt, err := Open(goTar(t, root, dt), Options{})
	must(t, err)
	sameTrees(t, "go tar", tt, dt, true)
	t.Run("gnu-posix", func(t *testing.T) {
		p := gnuTar(t, root, "posix")
		gt, err := Open(p, Options{})
		must(t, err)
		if dt.Lookup("var/sparse").Data != nil && !hasSparse(t, p) {
			t.Errorf("GNU tar wrote no sparse entry")
		}
		sameTrees(t, "gnu tar posix", gt, dt, true)
	})
	// The GNU format keeps whole-second mtimes and no xattrs; it matters
	// here for its own sparse encoding (type 'S').
	t.Run("gnu-sparse", func(t *testing.T) {
		p := gnuTar(t, root, "gnu")
		gt, err := Open(p, Options{})
		must(t, err)
		if dt.Lookup("var/sparse").Data != nil && !hasSparse(t, p) {
			t.Errorf("GNU tar wrote no sparse entry")
		}
		sameTrees(t, "gnu tar gnu", gt, dt, false)
	})
}

// hasSparse reports whether an archive holds a GNU sparse entry (old GNU
// type 'S' or PAX GNU.sparse records).
func hasSparse(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		if h.Typeflag == tar.TypeGNUSparse {
			return true
		}
		for k := range h.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				return true
			}
		}
	}
}
