package dirsource

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// fixedTime is the mtime every fixture path gets, with nanoseconds.
var fixedTime = unix.Timespec{Sec: 1700000000, Nsec: 123456789}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, data, mode))
	must(t, os.Chmod(path, mode)) // umask-proof, keeps setuid bits
}

// touch sets the fixed mtime without following symlinks.
func touch(t *testing.T, path string) {
	t.Helper()
	ts := []unix.Timespec{fixedTime, fixedTime}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW))
}

// setXattr sets an xattr or skips the test when the filesystem refuses.
func setXattr(t *testing.T, path, name string, value []byte) bool {
	t.Helper()
	err := unix.Lsetxattr(path, name, value, 0)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) {
		t.Logf("xattr %s not supported here: %v", name, err)
		return false
	}
	must(t, err)
	return true
}

func isRoot() bool { return os.Geteuid() == 0 }

// fixture builds a tree with every file type the source knows.
func fixture(t *testing.T) (string, map[string]bool) {
	t.Helper()
	root := t.TempDir()
	p := func(rel string) string { return filepath.Join(root, rel) }
	have := map[string]bool{}
	write(t, p("bin/su"), []byte("#!/bin/sh\n"), 0o755)
	must(t, unix.Chmod(p("bin/su"), 0o4755))
	write(t, p("etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	write(t, p("etc/empty"), nil, 0o600)
	must(t, os.Link(p("etc/hosts"), p("etc/hosts.link")))
	must(t, os.MkdirAll(p("var/lib"), 0o755))
	must(t, os.Link(p("etc/hosts"), p("var/lib/hosts")))
	must(t, os.Mkdir(p("tmp"), 0o755))
	must(t, unix.Chmod(p("tmp"), 0o1777))
	must(t, os.Mkdir(p("sgid"), 0o755))
	must(t, unix.Chmod(p("sgid"), 0o2775))
	must(t, os.Symlink("../etc/hosts", p("bin/hosts")))
	long := strings.Repeat("long/", 200) + "end" // 1003 bytes: a slow symlink on ext4
	must(t, os.Symlink(long, p("bin/long")))
	must(t, os.Mkdir(p("run"), 0o755))
	must(t, unix.Mkfifo(p("run/fifo"), 0o620))
	must(t, unix.Chmod(p("run/fifo"), 0o620))
	must(t, os.Link(p("run/fifo"), p("run/fifo2")))
	must(t, unix.Mknod(p("run/sock"), unix.S_IFSOCK|0o755, 0))
	must(t, unix.Chmod(p("run/sock"), 0o755))

	// A sparse file: 1 MiB with 8 KiB of data in the middle.
	f, err := os.Create(p("sparse"))
	must(t, err)
	must(t, f.Truncate(1<<20))
	_, err = f.WriteAt(bytes.Repeat([]byte{0xAB}, 8192), 512<<10)
	must(t, err)
	must(t, f.Close())

	if setXattr(t, p("etc/hosts"), "user.comment", []byte("hi\x00there")) {
		have["user"] = true
		setXattr(t, p("etc/hosts"), "user.a", []byte{})
	}
	if isRoot() {
		must(t, os.Mkdir(p("dev"), 0o755))
		must(t, unix.Mknod(p("dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		must(t, unix.Mknod(p("dev/loop0"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 300))))
		must(t, unix.Chmod(p("dev/null"), 0o666))
		must(t, unix.Chmod(p("dev/loop0"), 0o660))
		must(t, os.Lchown(p("etc/hosts"), 1234, 5678))
		must(t, os.Lchown(p("bin/hosts"), 42, 43))
		have["dev"] = true
		if setXattr(t, p("bin/su"), "trusted.overlay", []byte("y")) {
			have["trusted"] = true
		}
		if setXattr(t, p("bin/su"), "security.capability", []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
			have["security"] = true
		}
	}
	must(t, filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		must(t, err)
		touch(t, path)
		return nil
	}))
	return root, have
}

func TestReadEveryType(t *testing.T) {
	root, have := fixture(t)
	tr, err := Read(root, Options{})
	must(t, err)
	get := func(path string) *tree.Node {
		t.Helper()
		n := tr.Lookup(path)
		if n == nil {
			t.Fatalf("%q missing", path)
		}
		if n.Mtime != (tree.Time{Sec: fixedTime.Sec, Nsec: uint32(fixedTime.Nsec)}) {
			t.Errorf("%q mtime %+v", path, n.Mtime)
		}
		return n
	}
	if n := get(""); n.Kind != tree.Dir || n.Path != "" {
		t.Errorf("root: %+v", n)
	}
	if n := get("bin/su"); n.Kind != tree.Regular || n.Mode != 0o4755 || n.Size != 10 || n.Data != nil {
		t.Errorf("bin/su: %+v", n)
	}
	if n := get("tmp"); n.Kind != tree.Dir || n.Mode != 0o1777 {
		t.Errorf("tmp: %+v", n)
	}
	if n := get("sgid"); n.Mode != 0o2775 {
		t.Errorf("sgid mode %#o", n.Mode)
	}
	if n := get("bin/hosts"); n.Kind != tree.Symlink || n.Target != "../etc/hosts" || n.Size != 0 {
		t.Errorf("bin/hosts: %+v", n)
	}
	if n := get("bin/long"); n.Kind != tree.Symlink || len(n.Target) != 1003 || !strings.HasSuffix(n.Target, "/end") {
		t.Errorf("bin/long: target of %d bytes", len(n.Target))
	}
	if n := get("run/fifo"); n.Kind != tree.FIFO || n.Mode != 0o620 {
		t.Errorf("run/fifo: %+v", n)
	}
	if n := get("run/sock"); n.Kind != tree.Socket || n.Mode != 0o755 {
		t.Errorf("run/sock: %+v", n)
	}
	if n := get("etc/empty"); n.Kind != tree.Regular || n.Size != 0 || n.Mode != 0o600 || n.Data != nil {
		t.Errorf("etc/empty: %+v", n)
	}

	// Hard links: one LinkID per group, from the first path in sorted order.
	hosts, link, lib := get("etc/hosts"), get("etc/hosts.link"), get("var/lib/hosts")
	if hosts.LinkID == 0 || hosts.LinkID != link.LinkID || hosts.LinkID != lib.LinkID {
		t.Errorf("hosts LinkIDs %d %d %d", hosts.LinkID, link.LinkID, lib.LinkID)
	}
	fifo, fifo2 := get("run/fifo"), get("run/fifo2")
	if fifo.LinkID == 0 || fifo.LinkID != fifo2.LinkID || fifo.LinkID == hosts.LinkID {
		t.Errorf("fifo LinkIDs %d %d (hosts %d)", fifo.LinkID, fifo2.LinkID, hosts.LinkID)
	}
	if get("bin/su").LinkID != 0 || get("etc").LinkID != 0 {
		t.Error("unlinked nodes got a LinkID")
	}

	// Sparse: the data range covers the written bytes, the rest is hole.
	sp := get("sparse")
	if sp.Size != 1<<20 {
		t.Errorf("sparse size %d", sp.Size)
	}
	if sp.Data == nil {
		t.Log("filesystem reports no holes; sparse layout not checked")
	} else {
		var total int64
		covered := false
		for _, s := range sp.Data {
			total += s.Len
			if s.Off <= 512<<10 && s.Off+s.Len >= 520<<10 {
				covered = true
			}
		}
		if !covered || total >= 1<<20 {
			t.Errorf("sparse segments %+v", sp.Data)
		}
	}

	if have["user"] {
		want := []tree.Xattr{{Name: "user.a", Value: []byte{}}, {Name: "user.comment", Value: []byte("hi\x00there")}}
		if !reflect.DeepEqual(hosts.Xattrs, want) {
			t.Errorf("etc/hosts xattrs %+v", hosts.Xattrs)
		}
	}
	if have["dev"] {
		if n := get("dev/null"); n.Kind != tree.CharDev || n.Major != 1 || n.Minor != 3 || n.Mode != 0o666 {
			t.Errorf("dev/null: %+v", n)
		}
		if n := get("dev/loop0"); n.Kind != tree.BlockDev || n.Major != 7 || n.Minor != 300 {
			t.Errorf("dev/loop0: %+v", n)
		}
		if hosts.UID != 1234 || hosts.GID != 5678 {
			t.Errorf("etc/hosts owner %d:%d", hosts.UID, hosts.GID)
		}
		if n := get("bin/hosts"); n.UID != 42 || n.GID != 43 {
			t.Errorf("symlink owner %d:%d (lchown not honoured)", n.UID, n.GID)
		}
	} else {
		t.Log("not root: device nodes and ownership not tested")
	}
	su := get("bin/su")
	names := map[string]bool{}
	for i, x := range su.Xattrs {
		names[x.Name] = true
		if i > 0 && su.Xattrs[i-1].Name >= x.Name {
			t.Errorf("bin/su xattrs not sorted: %+v", su.Xattrs)
		}
	}
	if have["trusted"] && !names["trusted.overlay"] {
		t.Errorf("trusted.overlay missing: %+v", su.Xattrs)
	}
	if have["security"] && !names["security.capability"] {
		t.Errorf("security.capability missing: %+v", su.Xattrs)
	}

	noX, err := Read(root, Options{NoXattrs: true})
	must(t, err)
	for _, n := range noX.Nodes {
		if n.Xattrs != nil {
			t.Errorf("NoXattrs: %s has %+v", n.Path, n.Xattrs)
		}
	}
}

func TestReadDeterministic(t *testing.T) {
	root, _ := fixture(t)
	a, err := Read(root, Options{})
	must(t, err)
	b, err := Read(root, Options{})
	must(t, err)
	if !reflect.DeepEqual(a.Nodes, b.Nodes) {
		t.Fatal("two reads of one directory differ")
	}
	for i := 1; i < len(a.Nodes); i++ {
		if a.Nodes[i-1].Path >= a.Nodes[i].Path {
			t.Fatalf("nodes not sorted at %q", a.Nodes[i].Path)
		}
	}
}

func TestReadRootMustBeDirectory(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	must(t, os.Mkdir(real, 0o755))
	link := filepath.Join(dir, "link")
	must(t, os.Symlink("real", link))
	if _, err := Read(link, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("symlink root: %v", err)
	}
	file := filepath.Join(dir, "file")
	write(t, file, []byte("x"), 0o644)
	if _, err := Read(file, Options{}); err == nil {
		t.Error("file root accepted")
	}
	if _, err := Read(filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("missing root accepted")
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"a":                          true,
		strings.Repeat("x", 255):     true,
		strings.Repeat("x", 256):     false,
		"":                           false,
		".":                          false,
		"..":                         false,
		"a/b":                        false,
		"nul\x00":                    false,
		"\xff\xfe not utf-8 is fine": true,
	} {
		if err := checkName(name); (err == nil) != ok {
			t.Errorf("checkName(%q) = %v", name, err)
		}
	}
}

// TestReadUnreadable makes a file and a directory unreadable: with
// permissions when not root, with a failing open when root (permissions do
// not stop root).
func TestReadUnreadable(t *testing.T) {
	for _, target := range []string{"secret/file", "secret"} {
		root := t.TempDir()
		write(t, filepath.Join(root, "secret/file"), []byte("x"), 0o644)
		r := &reader{root: root, open: openNoFollow}
		full := filepath.Join(root, filepath.FromSlash(target))
		if isRoot() {
			r.open = func(path string) (*os.File, error) {
				if path == full {
					return nil, unix.EACCES
				}
				return openNoFollow(path)
			}
		} else {
			must(t, os.Chmod(full, 0))
			t.Cleanup(func() { os.Chmod(full, 0o755) })
		}
		_, err := r.read()
		if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "/"+target) {
			t.Errorf("%s: error %v", target, err)
		}
	}
}

// TestReadLinkOutsideTree: a file whose other hard link is outside the
// root is a plain file in the tree (no group of one).
func TestReadLinkOutsideTree(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	write(t, filepath.Join(root, "in"), []byte("x"), 0o644)
	must(t, os.Link(filepath.Join(root, "in"), filepath.Join(dir, "out")))
	tr, err := Read(root, Options{})
	must(t, err)
	if n := tr.Lookup("in"); n == nil || n.LinkID != 0 {
		t.Errorf("in: %+v", n)
	}
}

// TestReadRootXattrs: the root's own metadata is Node{Path: ""}, xattrs
// included.
func TestReadRootXattrs(t *testing.T) {
	root := t.TempDir()
	must(t, unix.Chmod(root, 0o750))
	if !setXattr(t, root, "user.root", []byte("r")) {
		t.Skip("filesystem refuses user xattrs")
	}
	tr, err := Read(root, Options{})
	must(t, err)
	n := tr.Lookup("")
	if n == nil || n.Mode != 0o750 || len(n.Xattrs) != 1 || n.Xattrs[0].Name != "user.root" {
		t.Errorf("root node %+v", n)
	}
}
