package fstree_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// open opens img (read-only underneath) as an FS.
func open(t *testing.T, img string, bs int) *fs.FS {
	t.Helper()
	dev, err := overlay.Open(img, overlay.Options{BlockSize: bs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	f, err := fs.Open(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// snapshot turns a Result into an ext4test.Snapshot, reading every regular
// file through Contents exactly once per inode.
func snapshot(t *testing.T, r *fstree.Result) *ext4test.Snapshot {
	t.Helper()
	s := &ext4test.Snapshot{Judge: "fstree", Entries: map[string]*ext4test.Entry{},
		Known: ext4test.FieldKind | ext4test.FieldMode | ext4test.FieldUID | ext4test.FieldGID | ext4test.FieldSize |
			ext4test.FieldMtime | ext4test.FieldMtimeNs | ext4test.FieldLinks | ext4test.FieldTarget |
			ext4test.FieldDevice | ext4test.FieldXattrs | ext4test.FieldContent}
	for _, n := range r.Tree.Nodes {
		e := &ext4test.Entry{Path: n.Path, Kind: n.Kind, Mode: n.Mode, UID: n.UID, GID: n.GID, Size: n.Size,
			Mtime: n.Mtime, Ino: uint64(r.Inode[n.Path]), Target: n.Target, Major: n.Major, Minor: n.Minor,
			Xattrs: map[string][]byte{}}
		if n.Kind == tree.Symlink {
			e.Size = int64(len(n.Target))
		}
		if n.LinkID != 0 && n.LinkID != uint64(r.Inode[n.Path]) {
			t.Errorf("%s: LinkID %d, inode %d", n.Path, n.LinkID, r.Inode[n.Path])
		}
		for _, x := range n.Xattrs {
			e.Xattrs[x.Name] = x.Value
		}
		if n.Kind == tree.Regular {
			e.SHA256 = hex.EncodeToString(sha256.New().Sum(nil))
		}
		s.Entries[n.Path] = e
	}
	seen := map[uint32]bool{}
	err := r.Tree.Contents.Each(func(n *tree.Node, rd io.Reader) error {
		ino := r.Inode[n.Path]
		if seen[ino] {
			t.Errorf("%s: inode %d read twice", n.Path, ino)
		}
		seen[ino] = true
		h := sha256.New()
		k, err := io.Copy(h, rd)
		if err != nil {
			return err
		}
		if k != n.Size {
			t.Errorf("%s: read %d bytes, size %d", n.Path, k, n.Size)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		for p, e := range s.Entries {
			if r.Inode[p] == ino {
				e.SHA256 = sum
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReadGenerated reads mkfs -d images of random rootfs trees (every node
// kind, owners, xattrs, ACLs, hard links, sparse files, a big indexed
// directory) and compares them with the source directory and with debugfs.
func TestReadGenerated(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	for _, v := range []struct {
		name    string
		bs      int
		no64bit bool
		seed    uint64
	}{{"1k", 1024, false, 1}, {"4k", 4096, false, 2}, {"4k-32bit", 4096, true, 3}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			if err := genTree(rand.New(rand.NewPCG(v.seed, 0)), src, v.bs-1); err != nil {
				t.Fatal(err)
			}
			img := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: v.bs, No64bit: v.no64bit})
			r, err := fstree.Read(open(t, img, v.bs))
			if err != nil {
				t.Fatal(err)
			}
			if r.Tree.Lookup("") == nil || r.Tree.Lookup(ext4test.LostFound) == nil {
				t.Fatalf("root or lost+found missing")
			}
			got := snapshot(t, r)
			if len(got.Entries) < 400 {
				t.Fatalf("only %d paths read", len(got.Entries))
			}
			ext4test.Compare(t, ext4test.SnapshotDir(t, src), got, ext4test.MkfsCheckOptions().Compare)
			ext4test.Compare(t, ext4test.SnapshotImage(t, img), got, ext4test.CompareOptions{})
		})
	}
}

// debugfsW runs a debugfs write request on img.
func debugfsW(t *testing.T, img, req string) {
	t.Helper()
	if out, err := exec.Command("debugfs", "-w", "-R", req, img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs %s: %v\n%s", req, err, out)
	}
}

// TestReadRefusesBadLinks: a directory linked twice, and an entry naming
// the orphan file or a reserved inode, are corruption.
func TestReadRefusesBadLinks(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "debugfs")
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d/e"), 0o755)
	os.WriteFile(filepath.Join(src, "d/f"), []byte("f"), 0o644)
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: 1024})
	if _, err := fstree.Read(open(t, base, 1024)); err != nil {
		t.Fatalf("clean image: %v", err)
	}
	for name, req := range map[string]string{
		"dir twice": "ln /d/e /again",
		"orphan":    "ln <12> /orphan",
		"journal":   "ln <8> /journal",
	} {
		t.Run(name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "bad.img")
			b, err := os.ReadFile(base)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(img, b, 0o644); err != nil {
				t.Fatal(err)
			}
			debugfsW(t, img, req)
			_, err = fstree.Read(open(t, img, 1024))
			if !errors.Is(err, fs.ErrCorrupt) {
				t.Fatalf("Read: %v, want ErrCorrupt", err)
			}
			t.Log(err)
		})
	}
}
