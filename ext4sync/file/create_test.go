package file_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// create makes a new inode of kind in directory parentPath of the image,
// with mode and mtime t0, and links it under name. It returns the inode,
// unsaved, for the caller to fill and save.
func (x *fixture) create(parentPath, name string, kind tree.Kind, mode uint32) *file.Inode {
	x.t.Helper()
	pino := x.ino(parentPath)
	in, err := file.Create(x.f, kind, pino, file.Options{})
	if err != nil {
		x.t.Fatal(err)
	}
	if !in.SetMeta(node(kind, mode)) {
		x.t.Errorf("SetMeta on a new inode reports no change")
	}
	if kind == tree.Dir {
		if err := in.InitDir(pino); err != nil {
			x.t.Fatal(err)
		}
	}
	x.link(parentPath, name, in)
	return in
}

// link adds a directory entry for in under parentPath/name (and the parent's
// link for a directory).
func (x *fixture) link(parentPath, name string, in *file.Inode) {
	x.t.Helper()
	p := x.open(parentPath)
	d, err := p.Dir()
	if err != nil {
		x.t.Fatal(err)
	}
	if err := d.Add(dir.Entry{Name: name, Inode: in.Ino(), Type: file.DirType(in.Kind())}); err != nil {
		x.t.Fatal(err)
	}
	if in.Kind() == tree.Dir {
		p.SetLinks(p.Links() + 1)
	}
	x.save(p)
}

// TestCreate adds new files, directories (growing past one block),
// devices, a FIFO and symlinks, mirrored in the source tree.
func TestCreate(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		x := newFixture(t, v, func(x *fixture) { x.write("etc/old", []byte("old\n")) })
		content := randBytes(10, 5*v.bs+3)
		f := x.create("etc", "new", tree.Regular, 0o640)
		if _, err := f.WriteContent(bytes.NewReader(content), int64(len(content))); err != nil {
			t.Fatal(err)
		}
		x.save(f)
		x.write("etc/new", content)
		os.Chmod(filepath.Join(x.src, "etc/new"), 0o640)

		d := x.create("", "opt", tree.Dir, 0o755)
		x.save(d)
		os.Mkdir(filepath.Join(x.src, "opt"), 0o755)
		// Enough names to need several directory blocks.
		for k := 0; k < 3*v.bs/32; k++ {
			name := fmt.Sprintf("file-with-a-longish-name-%04d", k)
			in := x.create("opt", name, tree.Regular, 0o600)
			x.save(in)
			x.write("opt/"+name, nil)
			os.Chmod(filepath.Join(x.src, "opt", name), 0o600)
		}
		sub := x.create("opt", "sub", tree.Dir, 0o700)
		x.save(sub)
		os.Mkdir(filepath.Join(x.src, "opt/sub"), 0o700)

		for _, dv := range []struct {
			name         string
			kind         tree.Kind
			mode         uint32
			major, minor uint32
		}{{"null", tree.CharDev, unix.S_IFCHR, 1, 3}, {"big", tree.BlockDev, unix.S_IFBLK, 300, 70000}, {"wide", tree.CharDev, unix.S_IFCHR, 4095, 255}} {
			in := x.create("", dv.name, dv.kind, 0o660)
			if !in.SetRdev(dv.major, dv.minor) || in.SetRdev(dv.major, dv.minor) {
				t.Errorf("SetRdev change report wrong")
			}
			if ma, mi := in.Rdev(); ma != dv.major || mi != dv.minor {
				t.Errorf("%s: Rdev %d:%d, want %d:%d", dv.name, ma, mi, dv.major, dv.minor)
			}
			x.save(in)
			if err := unix.Mknod(filepath.Join(x.src, dv.name), dv.mode|0o660, int(unix.Mkdev(dv.major, dv.minor))); err != nil {
				t.Skipf("mknod: %v", err)
			}
			os.Chmod(filepath.Join(x.src, dv.name), 0o660)
		}
		fifo := x.create("", "fifo", tree.FIFO, 0o644)
		x.save(fifo)
		unix.Mkfifo(filepath.Join(x.src, "fifo"), 0o644)

		for name, target := range map[string]string{"fastlink": "etc/old", "slowlink": string(bytes.Repeat([]byte("t/"), 70))} {
			in := x.create("", name, tree.Symlink, 0o777)
			if _, err := in.SetTarget(target); err != nil {
				t.Fatal(err)
			}
			x.save(in)
			os.Symlink(target, filepath.Join(x.src, name))
		}
		x.check()
	})
}

// TestIndexedDirGrows adds names to a directory mkfs + fsck -D indexed,
// splitting its leaves, and keeps INDEX_FL.
func TestIndexedDirGrows(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		x := newFixture(t, v, func(x *fixture) {
			for k := 0; k < v.bs/16; k++ {
				x.write(fmt.Sprintf("big/an-entry-with-a-long-name-%05d", k), nil)
			}
		})
		if !x.open("big").Raw().Flags.Has(disk.FlagIndex) {
			t.Fatalf("fixture directory is not indexed")
		}
		for k := 0; k < v.bs/8; k++ {
			name := fmt.Sprintf("added-with-an-even-longer-name-%05d", k)
			in := x.create("big", name, tree.Regular, 0o644)
			x.save(in)
			x.write("big/"+name, nil)
		}
		if !x.open("big").Raw().Flags.Has(disk.FlagIndex) {
			t.Errorf("directory lost INDEX_FL")
		}
		x.check()
	})
}
