package tarsource

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// aclVFS is user::rw- user:1000:r-- group::r-- mask::r-- other::r-- in
// the VFS encoding.
var aclVFS = []byte{
	2, 0, 0, 0,
	1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
	2, 0, 4, 0, 0xe8, 3, 0, 0,
	4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
}

var capValue = []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

// featureEntries covers every feature a rootfs tar uses, out of order.
func featureEntries() []ent {
	su := reg("./bin/su", 0o4755, "#!/bin/sh\n")
	su.hdr.Uid, su.hdr.Gid = 0, 0
	su.hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(capValue)}
	hosts := reg("etc/hosts", 0o644, "127.0.0.1 localhost\n")
	hosts.hdr.Uid, hosts.hdr.Gid = 1000, 100
	hosts.hdr.ModTime = time.Unix(1600000000, 987654321)
	hosts.hdr.PAXRecords = map[string]string{
		"SCHILY.xattr.system.posix_acl_access": string(aclVFS),
		"SCHILY.xattr.user.mime":               "text/plain",
		"LIBARCHIVE.xattr.user.lib%20name":     base64.RawStdEncoding.EncodeToString([]byte("v\x00x")),
	}
	textACL := reg("etc/acl", 0o640, "x")
	textACL.hdr.PAXRecords = map[string]string{"SCHILY.acl.access": "user::rw-\nuser:name:r--:1000\ngroup::r--\nmask::r--\nother::r--\n"}
	tty := ent{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/tty", Mode: 0o666, Devmajor: 5, Devminor: 0, ModTime: stamp}}
	sda := ent{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "dev/sda", Mode: 0o660, Devmajor: 8, Devminor: 1, Gid: 6, ModTime: stamp}}
	fifo := ent{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o620, ModTime: stamp}}
	root := dir("./", 0o700)
	root.hdr.Uid, root.hdr.ModTime = 7, time.Unix(5, 0)
	return []ent{
		reg("bin/old", 0o644, "replaced"),
		su,
		dir("etc/", 0o755), // after a child that is in bin/, before its own
		hosts,
		textACL,
		link("etc/hosts.link", "./etc/hosts"),
		symlink("bin/hosts", "../etc/hosts"),
		dir("bin", 0o755), // after its children
		dir("dev", 0o755), tty, sda,
		dir("run//", 0o755), fifo, link("run/fifo2", "run/fifo"),
		dir("tmp", 0o1777), dir("sgid", 0o2775),
		reg("etc/empty", 0o600, ""),
		reg("bin/old", 0o755, "new content"), // duplicate: last wins
		reg("etc/gone", 0o644, "file"),
		dir("etc/gone", 0o750), // a directory replaces a file
		root,
	}
}

func TestFeatures(t *testing.T) {
	tr, _, err := openEntries(t, featureEntries(), Options{})
	must(t, err)
	var paths []string
	for _, n := range tr.Nodes {
		paths = append(paths, n.Path)
	}
	want := []string{"", "bin", "bin/hosts", "bin/old", "bin/su", "dev", "dev/sda", "dev/tty", "etc", "etc/acl",
		"etc/empty", "etc/gone", "etc/hosts", "etc/hosts.link", "run", "run/fifo", "run/fifo2", "sgid", "tmp"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %q\nwant  %q", paths, want)
	}
	check := func(path string, want tree.Node) {
		t.Helper()
		got := *tr.Lookup(path)
		want.Path = path
		if want.Mtime == (tree.Time{}) && path != "" {
			want.Mtime = tree.Time{Sec: stamp.Unix(), Nsec: uint32(stamp.Nanosecond())}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", path, got, want)
		}
	}
	check("", tree.Node{Kind: tree.Dir, Mode: 0o700, UID: 7, Mtime: tree.Time{Sec: 5}})
	check("bin/su", tree.Node{Kind: tree.Regular, Mode: 0o4755, Size: 10,
		Xattrs: []tree.Xattr{{Name: "security.capability", Value: capValue}}})
	check("bin/old", tree.Node{Kind: tree.Regular, Mode: 0o755, Size: 11})
	check("bin/hosts", tree.Node{Kind: tree.Symlink, Mode: 0o777, Target: "../etc/hosts"})
	hostsX := []tree.Xattr{
		{Name: "system.posix_acl_access", Value: aclVFS},
		{Name: "user.lib name", Value: []byte("v\x00x")},
		{Name: "user.mime", Value: []byte("text/plain")},
	}
	hostsNode := tree.Node{Kind: tree.Regular, Mode: 0o644, UID: 1000, GID: 100, Size: 20,
		Mtime: tree.Time{Sec: 1600000000, Nsec: 987654321}, Xattrs: hostsX, LinkID: 13}
	check("etc/hosts", hostsNode)
	check("etc/hosts.link", hostsNode)
	check("etc/acl", tree.Node{Kind: tree.Regular, Mode: 0o640, Size: 1,
		Xattrs: []tree.Xattr{{Name: "system.posix_acl_access", Value: aclVFS}}})
	check("etc/empty", tree.Node{Kind: tree.Regular, Mode: 0o600})
	check("etc/gone", tree.Node{Kind: tree.Dir, Mode: 0o750})
	check("dev/tty", tree.Node{Kind: tree.CharDev, Mode: 0o666, Major: 5})
	check("dev/sda", tree.Node{Kind: tree.BlockDev, Mode: 0o660, GID: 6, Major: 8, Minor: 1})
	check("run/fifo", tree.Node{Kind: tree.FIFO, Mode: 0o620, LinkID: 16})
	check("run/fifo2", tree.Node{Kind: tree.FIFO, Mode: 0o620, LinkID: 16})
	check("tmp", tree.Node{Kind: tree.Dir, Mode: 0o1777})
	check("sgid", tree.Node{Kind: tree.Dir, Mode: 0o2775})

	got := contentsOf(t, tr)
	wantC := map[string][]byte{
		"bin/su": []byte("#!/bin/sh\n"), "etc/hosts": []byte("127.0.0.1 localhost\n"),
		"etc/acl": []byte("x"), "bin/old": []byte("new content"),
	}
	if !reflect.DeepEqual(got, wantC) {
		t.Errorf("contents %q, want %q", got, wantC)
	}
	// Each is repeatable and yields in archive order.
	var order []string
	must(t, tr.Contents.Each(func(n *tree.Node, _ io.Reader) error {
		order = append(order, n.Path)
		return nil
	}))
	if want := []string{"bin/su", "etc/hosts", "etc/acl", "bin/old"}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %q, want %q", order, want)
	}
}

func TestNoXattrs(t *testing.T) {
	tr, _, err := openEntries(t, featureEntries(), Options{NoXattrs: true})
	must(t, err)
	for _, n := range tr.Nodes {
		if n.Xattrs != nil {
			t.Errorf("%s has xattrs %v", n.Path, n.Xattrs)
		}
	}
}

// TestDefaultRoot: without a "." entry the root is 0755 root:root, mtime 0.
func TestDefaultRoot(t *testing.T) {
	tr, _, err := openEntries(t, []ent{reg("f", 0o644, "x")}, Options{})
	must(t, err)
	if got, want := *tr.Lookup(""), (tree.Node{Kind: tree.Dir, Mode: 0o755}); !reflect.DeepEqual(got, want) {
		t.Errorf("root %+v, want %+v", got, want)
	}
}

// TestHardLinkSurvivesReplace: replacing a linked path leaves the other
// name with the old inode, as extracting does.
func TestHardLinkSurvivesReplace(t *testing.T) {
	tr, _, err := openEntries(t, []ent{reg("a", 0o644, "old"), link("b", "a"), reg("a", 0o600, "newer")}, Options{})
	must(t, err)
	if a, b := tr.Lookup("a"), tr.Lookup("b"); a.LinkID != 0 || b.LinkID != 0 || b.Size != 3 || a.Size != 5 {
		t.Fatalf("a %+v b %+v", a, b)
	}
	got := contentsOf(t, tr)
	if string(got["a"]) != "newer" || string(got["b"]) != "old" {
		t.Errorf("contents %q", got)
	}
}

func TestCompressions(t *testing.T) {
	raw := tarBytes(t, featureEntries())
	base, _, err := openEntries(t, featureEntries(), Options{})
	must(t, err)
	baseC := contentsOf(t, base)
	for _, comp := range []Compression{None, Gzip, Bzip2, Xz, Zstd} {
		t.Run(comp.String(), func(t *testing.T) {
			data, ok := compress(t, raw, comp)
			if !ok {
				ext4test.Tool(t, "bzip2")
			}
			p := writeFile(t, data)
			if ok, c, err := Probe(p); err != nil || !ok || c != comp {
				t.Fatalf("Probe = %v %v %v, want true %v", ok, c, err, comp)
			}
			tr, err := Open(p, Options{})
			must(t, err)
			if !reflect.DeepEqual(tr.Nodes, base.Nodes) {
				t.Errorf("nodes differ from the plain archive's")
			}
			if got := contentsOf(t, tr); !reflect.DeepEqual(got, baseC) {
				t.Errorf("contents differ from the plain archive's")
			}
		})
	}
}

func TestProbeRefuses(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty": nil, "zeros": make([]byte, 4096), "text": bytes.Repeat([]byte("hello world\n"), 100),
		"gzip-garbage": append([]byte{0x1f, 0x8b}, make([]byte, 100)...),
	} {
		if ok, _, err := Probe(writeFile(t, data)); ok || err != nil {
			t.Errorf("%s: Probe = %v, %v; want false, nil", name, ok, err)
		}
	}
}
