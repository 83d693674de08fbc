package file_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// unlink removes parentPath/name from the image's directory and returns the
// inode it named.
func (x *fixture) unlink(parentPath, name string, isDir bool) uint32 {
	x.t.Helper()
	p := x.open(parentPath)
	d, err := p.Dir()
	if err != nil {
		x.t.Fatal(err)
	}
	e, ok, err := d.Lookup(name)
	if err != nil || !ok {
		x.t.Fatalf("lookup %s: %v %v", name, ok, err)
	}
	if err := d.Remove(name); err != nil {
		x.t.Fatal(err)
	}
	if isDir {
		p.SetLinks(p.Links() - 1)
	}
	x.save(p)
	return e.Inode
}

// TestFree frees a file with an xattr block and a deep extent tree, a
// directory, a slow symlink, and drops one name of a hard-linked file.
func TestFree(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		long := strings.Repeat("s/", 40)
		x := newFixture(t, v, func(x *fixture) {
			x.write("frag", []byte("x"))
			x.setXattr("frag", "user.big", bytes.Repeat([]byte("v"), 700))
			os.Mkdir(filepath.Join(x.src, "emptydir"), 0o755)
			os.Symlink(long, filepath.Join(x.src, "slow"))
			x.write("linked", []byte("linked"))
			os.Link(filepath.Join(x.src, "linked"), filepath.Join(x.src, "other"))
		})
		// 400 one-block extents: depth 2 with 1 KiB blocks, 1 with 4 KiB.
		const extents = 400
		content := make([]byte, 2*extents*v.bs)
		for k := 0; k < extents; k++ {
			copy(content[2*k*v.bs:], randBytes(int64(k), v.bs))
		}
		x.writeBoth("frag", content)
		frag := x.open("frag")
		raw := frag.Raw()
		depth := extent.DecodeHeader(raw.Block[:]).Depth
		if wantDepth := map[int]uint16{1024: 2, 4096: 1}[v.bs]; depth != wantDepth {
			t.Errorf("frag: extent depth %d, want %d", depth, wantDepth)
		}
		x.check()

		blocks, inodes := x.f.FreeBlocksCount(), x.f.FreeInodesCount()
		nodes := uint64(raw.Sectors(uint32(v.bs))/uint64(v.bs/512)) - extents - 1
		for _, r := range []struct {
			name  string
			isDir bool
		}{{"frag", false}, {"emptydir", true}, {"slow", false}} {
			in := x.load(x.unlink("", r.name, r.isDir))
			if err := in.Free(); err != nil {
				t.Fatal(err)
			}
			os.RemoveAll(filepath.Join(x.src, r.name))
		}
		// One name of a hard link: the inode stays with one link.
		in := x.load(x.unlink("", "other", false))
		in.SetLinks(in.Links() - 1)
		x.save(in)
		os.Remove(filepath.Join(x.src, "other"))

		// frag: data, tree nodes, xattr block; emptydir: one block; slow: one.
		wantBlocks := blocks + extents + nodes + 1 + 1 + 1
		if got := x.f.FreeBlocksCount(); got != wantBlocks {
			t.Errorf("free blocks %d, want %d (%d tree nodes)", got, wantBlocks, nodes)
		}
		if got := x.f.FreeInodesCount(); got != inodes+3 {
			t.Errorf("free inodes %d, want %d", got, inodes+3)
		}
		x.check()

		// A freed inode is offered again and comes back clean.
		n := x.create("", "again", tree.Regular, 0o644)
		if _, err := n.WriteContent(bytes.NewReader([]byte("again")), 5); err != nil {
			t.Fatal(err)
		}
		x.save(n)
		x.write("again", []byte("again"))
		x.check()
	})
}
