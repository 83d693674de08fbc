package tarsource

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// ent is one tar entry a test writes: a header and, for regular files,
// its content.
type ent struct {
	hdr  tar.Header
	data string
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// stamp is the mtime test entries get unless they say otherwise.
var stamp = time.Unix(1700000000, 123456789)

func dir(name string, mode int64) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: stamp}}
}

func reg(name string, mode int64, data string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: stamp}, data: data}
}

func link(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, ModTime: stamp}}
}

func symlink(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: stamp}}
}

// tarBytes writes entries as a PAX tar.
func tarBytes(t testing.TB, entries []ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Format == tar.FormatUnknown {
			h.Format = tar.FormatPAX
		}
		must(t, tw.WriteHeader(&h))
		if e.data != "" {
			_, err := io.WriteString(tw, e.data)
			must(t, err)
		}
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// compress wraps a tar stream in comp, using the CLI for bzip2 (the
// standard library has no writer); ok is false when that CLI is missing.
func compress(t testing.TB, raw []byte, comp Compression) ([]byte, bool) {
	t.Helper()
	var buf bytes.Buffer
	switch comp {
	case None:
		return raw, true
	case Gzip:
		w := gzip.NewWriter(&buf)
		_, err := w.Write(raw)
		must(t, err)
		must(t, w.Close())
	case Xz:
		w, err := xz.NewWriter(&buf)
		must(t, err)
		_, err = w.Write(raw)
		must(t, err)
		must(t, w.Close())
	case Zstd:
		w, err := zstd.NewWriter(&buf)
		must(t, err)
		_, err = w.Write(raw)
		must(t, err)
		must(t, w.Close())
	case Bzip2:
		if !ext4test.HaveTools(t, "bzip2") {
			return nil, false
		}
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		must(t, err)
		return out, true
	}
	return buf.Bytes(), true
}

// writeFile puts data in a temp file and returns its path.
func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.tar")
	must(t, os.WriteFile(p, data, 0o644))
	return p
}

// openEntries writes entries as a plain tar and opens it.
func openEntries(t testing.TB, entries []ent, opts Options) (*tree.Tree, string, error) {
	t.Helper()
	p := writeFile(t, tarBytes(t, entries))
	tr, err := Open(p, opts)
	return tr, p, err
}

// contentsOf streams every file's content, keyed by the node's path.
func contentsOf(t testing.TB, tr *tree.Tree) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	must(t, tr.Contents.Each(func(n *tree.Node, r io.Reader) error {
		b, err := io.ReadAll(r)
		out[n.Path] = b
		return err
	}))
	return out
}

// linkGroups lists each hard-link group as its sorted paths.
func linkGroups(tr *tree.Tree) [][]string {
	byID := map[uint64][]string{}
	for _, n := range tr.Nodes {
		if n.LinkID != 0 {
			byID[n.LinkID] = append(byID[n.LinkID], n.Path)
		}
	}
	var out [][]string
	for _, g := range byID {
		sort.Strings(g)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
