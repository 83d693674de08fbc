package ext4sync

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// countingContents counts the files a source hands out, per pass.
type countingContents struct {
	c     tree.Contents
	sel   tree.Selector
	files []int // files handed out, one entry per Each or EachOf call
}

func (c *countingContents) Each(fn func(*tree.Node, io.Reader) error) error {
	c.files = append(c.files, 0)
	return c.c.Each(c.count(fn))
}

func (c *countingContents) EachOf(want func(*tree.Node) bool, fn func(*tree.Node, io.Reader) error) error {
	c.files = append(c.files, 0)
	return c.sel.EachOf(want, c.count(fn))
}

func (c *countingContents) count(fn func(*tree.Node, io.Reader) error) func(*tree.Node, io.Reader) error {
	return func(n *tree.Node, r io.Reader) error {
		c.files[len(c.files)-1]++
		return fn(n, r)
	}
}

// The digest pass reads every file once; the fill pass reads only the
// files whose bytes are not all in place already: none for a no-op
// release, the changed one after an edit.
func TestInPlaceFilesAreReadOnce(t *testing.T) {
	t.Parallel()
	c := configs[0]
	src := genSource(t, 3, smallTree(c.img.BlockSize))
	base := ext4test.BuildImage(t, src, c.img)
	img, _ := syncFile(t, base, src) // the tree's own times, as a later sync sees them
	sync := func() (*countingContents, *Result) {
		t.Helper()
		tr := readTree(t, src)
		cc := &countingContents{c: tr.Contents, sel: tr.Contents.(tree.Selector)}
		tr.Contents = cc
		out := filepath.Join(t.TempDir(), "out.ext4")
		res, err := SyncImage(t.Context(), img, tr, out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ext4test.CheckImage(t, out, src)
		return cc, res
	}
	cc, _ := sync()
	if len(cc.files) != 2 || cc.files[0] < 10 || cc.files[1] != 0 {
		t.Errorf("no-op release: files read per pass %v, want all then none", cc.files)
	}
	var victim string
	filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err == nil && victim == "" && fi.Mode().IsRegular() && fi.Size() > 8192 {
			victim = p
		}
		return nil
	})
	if victim == "" {
		t.Fatal("no file to edit")
	}
	b, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	b[4096] ^= 0xFF
	fi, _ := os.Stat(victim)
	if err := os.WriteFile(victim, b, fi.Mode()); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(victim, fi.ModTime(), fi.ModTime())
	cc, res := sync()
	if len(cc.files) != 2 || cc.files[1] != 1 || res.Changed != 1 {
		t.Errorf("one file edited: files read per pass %v, %d changed, want all then one", cc.files, res.Changed)
	}
}
