package detect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rootfsDir is a small tree: directories, a file, a symlink, a hard link.
func rootfsDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "etc/init.d"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "etc/init.d/rc"), bytes.Repeat([]byte("#!/bin/sh\n"), 900), 0o755))
	must(t, os.Link(filepath.Join(root, "etc/hosts"), filepath.Join(root, "etc/hosts2")))
	must(t, os.Symlink("hosts", filepath.Join(root, "etc/link")))
	return root
}

// shape is a tree's paths, kinds, sizes, targets and contents.
type shape struct {
	Nodes    []string
	Contents map[string]string
}

// noSkip is a path no tree has.
const noSkip = "\x00"

func shapeOf(t *testing.T, tr *tree.Tree, skip string) shape {
	t.Helper()
	var s shape
	s.Contents = map[string]string{}
	for _, n := range tr.Nodes {
		if n.Path == skip {
			continue
		}
		s.Nodes = append(s.Nodes, n.Path+" "+n.Kind.String()+" "+n.Target+" "+fmt.Sprint(n.Size))
	}
	must(t, tr.Contents.Each(func(n *tree.Node, r io.Reader) error {
		b, err := io.ReadAll(r)
		s.Contents[n.Path] = string(b)
		return err
	}))
	return s
}

func TestDirectory(t *testing.T) {
	root := rootfsDir(t)
	tr, kind, err := Rootfs(root, Options{})
	must(t, err)
	if kind != Dir {
		t.Fatalf("kind %s, want directory", kind)
	}
	want, err := dirsource.Read(root, dirsource.Options{})
	must(t, err)
	if !reflect.DeepEqual(shapeOf(t, tr, noSkip), shapeOf(t, want, noSkip)) {
		t.Errorf("tree differs from dirsource's")
	}
}

// TestTarByContent: a gzip tar named like an image is still a tar.
func TestTarByContent(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}))
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/hosts", Mode: 0o644, Size: 3}))
	_, err := tw.Write([]byte("abc"))
	must(t, err)
	must(t, tw.Close())
	must(t, zw.Close())
	p := filepath.Join(t.TempDir(), "rootfs.ext4")
	must(t, os.WriteFile(p, buf.Bytes(), 0o644))
	s, err := Open(p, Options{})
	must(t, err)
	defer s.Close()
	if s.Kind != Tar || s.Tree.Lookup("etc/hosts") == nil {
		t.Fatalf("kind %s, tree %v", s.Kind, s.Tree.Nodes)
	}
}

// TestImage: an mkfs.ext4 -d image of a directory reads as the directory
// (plus lost+found).
func TestImage(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	root := rootfsDir(t)
	img := filepath.Join(t.TempDir(), "rootfs.tar") // the name must not matter
	cmd := exec.Command(mkfs, "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", "4096", "-d", root, img, "16M")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	// As a Yocto build does: fsck -pfD, where exit 1 (fixed) is fine.
	if out, err := exec.Command(ext4test.Tool(t, "fsck.ext4"), "-pfD", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("fsck.ext4 -pfD: %v\n%s", err, out)
		}
	}
	s, err := Open(img, Options{})
	must(t, err)
	defer s.Close()
	if s.Kind != Image {
		t.Fatalf("kind %s, want ext4 image", s.Kind)
	}
	want, err := dirsource.Read(root, dirsource.Options{})
	must(t, err)
	got := shapeOf(t, s.Tree, "lost+found")
	if w := shapeOf(t, want, noSkip); !reflect.DeepEqual(got, w) {
		t.Errorf("image tree\n%v\nwant\n%v", got, w)
	}
	must(t, s.Close())
}

func TestUnknown(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty": nil, "text": bytes.Repeat([]byte("plain text\n"), 300), "zeros": make([]byte, 8192),
	} {
		p := filepath.Join(t.TempDir(), name)
		must(t, os.WriteFile(p, data, 0o644))
		_, _, err := Rootfs(p, Options{})
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: err = %v, want ErrUnknown", name, err)
		} else if want := "rootfs: " + p + ": not a directory, tar archive or ext4 image"; err.Error() != want {
			t.Errorf("%s: message %q, want %q", name, err, want)
		}
	}
	if _, _, err := Rootfs(filepath.Join(t.TempDir(), "missing"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: err = %v", err)
	}
}

// TestInvalidClasses: hostile tars, unknown files and corrupt images are
// input errors; a missing path is not.
func TestInvalidClasses(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "/etc/passwd", Mode: 0o644}))
	must(t, tw.Close())
	hostile := filepath.Join(t.TempDir(), "hostile.tar")
	must(t, os.WriteFile(hostile, buf.Bytes(), 0o644))
	_, _, err := Rootfs(hostile, Options{})
	if !IsInvalid(err) {
		t.Errorf("hostile tar: %v is not an input error", err)
	}
	fake := make([]byte, 64<<10) // an ext4 magic and nothing else
	fake[sbOffset+magicOff], fake[sbOffset+magicOff+1] = 0x53, 0xef
	bad := filepath.Join(t.TempDir(), "bad.img")
	must(t, os.WriteFile(bad, fake, 0o644))
	_, kind, err := Rootfs(bad, Options{})
	if err == nil || !IsInvalid(err) {
		t.Errorf("corrupt image: kind %s, %v is not an input error", kind, err)
	}
	_, _, err = Rootfs(filepath.Join(t.TempDir(), "missing"), Options{})
	if err == nil || IsInvalid(err) {
		t.Errorf("missing path: %v", err)
	}
}
