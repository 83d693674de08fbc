package xattr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// readBack decodes everything a path's inode holds: in-inode and block.
func readBack(t *testing.T, im *image, in inodeInfo) []Attr {
	t.Helper()
	body, err := DecodeInode(im.inode(in), in.ino)
	if err != nil {
		t.Fatal(err)
	}
	var blk []Attr
	if in.acl != 0 {
		var hdr BlockHeader
		blk, hdr, err = DecodeBlock(im.block(in.acl), in.acl, BlockOptions{Checksum: im.csum, FSSeed: im.fsSeed})
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Refcount != 1 {
			t.Errorf("inode %d: block %d refcount %d, want 1", in.ino, in.acl, hdr.Refcount)
		}
	}
	all, err := Merge(body, blk, in.ino)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func sortedCopy(x []Attr) []Attr {
	c := append([]Attr(nil), x...)
	sortByName(c)
	return c
}

func TestMkfsImages(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "debugfs", "e2fsck")
	src := t.TempDir()
	files := fixtureFiles()
	want := buildSource(t, src, files)
	for _, bs := range []int{1024, 4096} {
		t.Run(strconv.Itoa(bs/1024)+"k", func(t *testing.T) {
			im := mkfs(t, src, bs)
			if !im.csum {
				t.Fatal("fixture lacks metadata_csum")
			}
			for _, f := range files {
				in := locate(t, im, f.path)
				got := readBack(t, im, in)
				exp := sortedCopy(want[f.path])
				if len(got) != len(exp) {
					t.Fatalf("%s: got %d xattrs, want %d", f.path, len(got), len(exp))
				}
				for i := range got {
					// The VFS gave back exactly these bytes, so the
					// decoded value (ACLs included) must match them.
					if got[i].Name != exp[i].Name || !bytes.Equal(got[i].Value, exp[i].Value) {
						t.Errorf("%s: xattr %d = %q %x, want %q %x", f.path, i, got[i].Name, got[i].Value, exp[i].Name, exp[i].Value)
					}
				}
				if !Equal(got, want[f.path]) {
					t.Errorf("%s: Equal(decoded, source) = false", f.path)
				}
				list := debugfs(t, im.path, "ea_list /"+f.path)
				for _, x := range exp {
					if !strings.Contains(list, x.Name) {
						t.Errorf("%s: debugfs ea_list lacks %s:\n%s", f.path, x.Name, list)
					}
				}
				// In the order mke2fs saw them.
				checkReencode(t, im, in, f.path, want[f.path])
			}
		})
	}
}

// TestNameOrderDiffers: encoded in name order, a set mke2fs received in
// another order lands differently (Encode places in the order given).
func TestNameOrderDiffers(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "debugfs")
	src := t.TempDir()
	files := fixtureFiles()
	want := buildSource(t, src, files)
	im := mkfs(t, src, 1024)
	in := locate(t, im, "etc/order")
	raw := im.inode(in)
	off, _, _ := InodeXattrOffset(raw)
	body, _, err := Encode(sortedCopy(want["etc/order"]), len(raw)-off, im.blockSize, "etc/order")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(body, raw[off:]) {
		t.Fatal("name order reproduced mke2fs's body; the fixture no longer shows the difference")
	}
}

// checkReencode lays attrs out again and compares with mkfs's bytes.
func checkReencode(t *testing.T, im *image, in inodeInfo, path string, attrs []Attr) {
	t.Helper()
	raw := im.inode(in)
	off, ok, err := InodeXattrOffset(raw)
	if err != nil || !ok {
		t.Fatalf("%s: no in-inode region (%v)", path, err)
	}
	body, block, err := Encode(attrs, len(raw)-off, im.blockSize, path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !bytes.Equal(body, raw[off:]) {
		t.Errorf("%s: in-inode region differs from mkfs:\n got %x\nwant %x", path, body, raw[off:])
	}
	if (block != nil) != (in.acl != 0) {
		t.Fatalf("%s: Encode block=%v, mkfs File ACL %d", path, block != nil, in.acl)
	}
	if block == nil {
		return
	}
	SetBlockChecksum(block, in.acl, im.fsSeed)
	if exp := im.block(in.acl); !bytes.Equal(block, exp) {
		t.Errorf("%s: xattr block differs from mkfs:\n got %x\nwant %x", path, block, exp)
	}
}

// TestWriteChangedXattrs rewrites one file's in-inode region and block with
// a changed set and has e2fsck and debugfs judge the result.
func TestWriteChangedXattrs(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "debugfs", "e2fsck")
	src := t.TempDir()
	files := fixtureFiles()
	want := buildSource(t, src, files)
	for _, bs := range []int{1024, 4096} {
		t.Run(strconv.Itoa(bs/1024)+"k", func(t *testing.T) {
			im := mkfs(t, src, bs)
			for _, path := range []string{"etc/many", "etc/big"} {
				in := locate(t, im, path)
				if in.acl == 0 {
					t.Fatalf("%s: fixture has no xattr block", path)
				}
				next := changed(want[path])
				raw := im.inode(in)
				off, _, err := InodeXattrOffset(raw)
				if err != nil {
					t.Fatal(err)
				}
				body, block, err := Encode(next, len(raw)-off, im.blockSize, path)
				if err != nil {
					t.Fatal(err)
				}
				if block == nil {
					t.Fatalf("%s: changed set needs no block; the test keeps the block", path)
				}
				copy(raw[off:], body)
				if gen := binary.LittleEndian.Uint32(raw[inoGeneration:]); gen != in.gen {
					t.Fatalf("generation %d, debugfs said %d", gen, in.gen)
				}
				setInodeChecksum(raw, in.ino, in.gen, im.fsSeed)
				SetBlockChecksum(block, in.acl, im.fsSeed)
				copy(im.block(in.acl), block)
			}
			if err := os.WriteFile(im.path, im.data, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, []int{0}, "e2fsck", "-fn", im.path)
			for _, path := range []string{"etc/many", "etc/big"} {
				next := changed(want[path])
				in := locate(t, im, path)
				if got := readBack(t, im, in); !Equal(got, next) {
					t.Errorf("%s: read back %v, want %v", path, names(got), names(next))
				}
				list := debugfs(t, im.path, "ea_list /"+path)
				for _, x := range next {
					if !strings.Contains(list, x.Name) {
						t.Errorf("%s: ea_list lacks %s:\n%s", path, x.Name, list)
					}
				}
				if strings.Contains(list, "user.small") || strings.Contains(list, "user.k3 ") {
					t.Errorf("%s: ea_list still shows a removed xattr:\n%s", path, list)
				}
				v := debugfs(t, im.path, "ea_get /"+path+" user.new")
				if !strings.Contains(v, "fresh value") {
					t.Errorf("%s: ea_get user.new = %q", path, v)
				}
			}
		})
	}
}

// changed edits a set: drops user.small and user.k3, grows every other
// value by a few bytes, and adds user.new.
func changed(in []Attr) []Attr {
	var out []Attr
	for _, x := range in {
		if x.Name == "user.small" || x.Name == "user.k3" {
			continue
		}
		out = append(out, Attr{Name: x.Name, Value: append(append([]byte{}, x.Value...), "+edit"...)})
	}
	return append(out, Attr{Name: "user.new", Value: []byte("fresh value")})
}

func names(x []Attr) []string {
	var n []string
	for _, a := range x {
		n = append(n, a.Name)
	}
	return n
}

// TestMkfsRejectsOversized checks that Encode refuses what mke2fs -d
// refuses: an xattr too big for a 1 KiB block and the inode body.
func TestMkfsRejectsOversized(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4")
	src := t.TempDir()
	files := []srcFile{{path: "f", kind: tree.Regular, content: []byte("f"),
		attrs: []Attr{{Name: "user.big", Value: fill(1500, 1)}}}}
	want := buildSource(t, src, files)
	img := filepath.Join(t.TempDir(), "fs.img")
	out, err := exec.Command("mkfs.ext4", "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file",
		"-b", "1024", "-d", src, img, "8M").CombinedOutput()
	if err == nil {
		t.Fatalf("mkfs.ext4 accepted a 1500-byte xattr on 1 KiB blocks:\n%s", out)
	}
	if _, _, err := Encode(want["f"], testSpace, 1024, "/f"); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Encode: %v, want ErrNoSpace", err)
	}
}
