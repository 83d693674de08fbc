package tarsource

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// FuzzTar: any bytes give an ErrInvalid error or a valid tree whose
// contents stream exactly each file's size; never a panic or a hang
// (MaxBytes bounds the work). Inputs go through one file per fuzz
// process, rewritten each time, so an execution costs no directory
// creation (the minimizer runs thousands).
func FuzzTar(f *testing.F) {
	raw := tarBytes(f, featureEntries())
	for _, comp := range []Compression{None, Gzip, Xz, Zstd} {
		data, _ := compress(f, raw, comp)
		f.Add(data)
	}
	f.Add(tarBytes(f, []ent{reg("a", 0o644, "x"), link("b", "a"), symlink("c", "a")}))
	f.Add(tarBytes(f, []ent{dir("./", 0o755), dir("d/", 0o700), reg("d/f", 0o600, strings.Repeat("z", 600))}))
	p := filepath.Join(f.TempDir(), "input.tar")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{MaxBytes: 16 << 20, MaxEntries: 1 << 14, MaxMetaBytes: 16 << 20}
		tr, err := Open(p, opts)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			return
		}
		checkTree(t, tr)
		err = tr.Contents.Each(func(n *tree.Node, r io.Reader) error {
			m, err := io.Copy(io.Discard, r)
			if err == nil && m != n.Size {
				t.Fatalf("%s: %d bytes, want %d", n.Path, m, n.Size)
			}
			return err
		})
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Each: %v", err)
		}
	})
}

// checkTree asserts what Open promises of every tree it returns.
func checkTree(t *testing.T, tr *tree.Tree) {
	t.Helper()
	if root := tr.Lookup(""); root == nil || root.Kind != tree.Dir {
		t.Fatalf("root missing or not a directory")
	}
	for _, n := range tr.Nodes {
		if n.Path == "" {
			continue
		}
		parent := tr.Lookup(n.Parent())
		if parent == nil || parent.Kind != tree.Dir {
			t.Fatalf("%s: parent is not a directory", n.Path)
		}
		name := n.Name()
		if name == "" || name == "." || name == ".." || len(name) > maxNameLen || strings.HasPrefix(n.Path, "/") {
			t.Fatalf("bad path %q", n.Path)
		}
		if n.LinkID != 0 && n.Kind == tree.Dir {
			t.Fatalf("%s: linked directory", n.Path)
		}
	}
}
