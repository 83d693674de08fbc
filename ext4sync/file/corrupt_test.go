package file_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// TestLoadRefuses damages one inode field at a time with debugfs (which
// keeps the inode checksum valid) and expects Load to return a located
// error of the right class, never to panic.
func TestLoadRefuses(t *testing.T) {
	x := newFixture(t, variant{"1k", 1024, false}, func(x *fixture) {
		x.write("f", randBytes(1, 3000))
		os.Symlink("fast", filepath.Join(x.src, "fast"))
		os.Symlink(strings.Repeat("slow/", 20), filepath.Join(x.src, "slow"))
	})
	cases := []struct {
		name, path, field, value string
		want                     error
	}{
		{"unknown type", "f", "mode", "0170644", fs.ErrCorrupt},
		{"no links", "f", "links_count", "0", fs.ErrCorrupt},
		{"inline data", "f", "flags", "0x10080000", fs.ErrUnsupported},
		{"block mapped", "f", "flags", "0", fs.ErrUnsupported},
		{"bad extent magic", "f", "block[0]", "0x1234", fs.ErrCorrupt},
		{"extent past the end", "f", "block[5]", "0x7fffffff", fs.ErrCorrupt},
		{"empty symlink", "fast", "size", "0", fs.ErrCorrupt},
		{"size of a block-mapped symlink", "fast", "size", "70", fs.ErrUnsupported},
		{"slow symlink too long", "slow", "size", "1024", fs.ErrCorrupt},
		{"extents on a fast symlink", "fast", "flags", "0x80000", fs.ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "bad.img")
			b, err := os.ReadFile(x.img)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(img, b, 0o644)
			req := "sif /" + c.path + " " + c.field + " " + c.value
			if out, err := exec.Command("debugfs", "-w", "-R", req, img).CombinedOutput(); err != nil || strings.Contains(string(out), "rror") {
				t.Fatalf("debugfs %s: %v\n%s", req, err, out)
			}
			dev, err := overlay.Open(img, overlay.Options{BlockSize: 1024})
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			f, err := fs.Open(dev, fs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ino := x.ino(c.path)
			_, err = file.Load(f, ino)
			if !errors.Is(err, c.want) {
				t.Fatalf("Load: %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), "inode") {
				t.Errorf("error does not name the inode: %v", err)
			}
			t.Log(err)
		})
	}
}

// TestKindErrors: operations on the wrong kind fail with ErrKind.
func TestKindErrors(t *testing.T) {
	x := newFixture(t, variant{"4k", 4096, false}, func(x *fixture) { x.write("f", []byte("f")) })
	f := x.open("f")
	root := x.open("")
	if _, err := f.Dir(); !errors.Is(err, file.ErrKind) {
		t.Errorf("Dir on a file: %v", err)
	}
	if _, err := f.SetTarget("x"); !errors.Is(err, file.ErrKind) {
		t.Errorf("SetTarget on a file: %v", err)
	}
	if _, err := root.WriteContent(strings.NewReader(""), 0); !errors.Is(err, file.ErrKind) {
		t.Errorf("WriteContent on a directory: %v", err)
	}
	if err := f.InitDir(2); !errors.Is(err, file.ErrKind) {
		t.Errorf("InitDir on a file: %v", err)
	}
	if _, err := file.Create(x.f, tree.Kind(99), 2, file.Options{}); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Create of an unknown kind: %v", err)
	}
	if _, err := f.WriteContent(strings.NewReader("short"), 10); err == nil {
		t.Errorf("WriteContent with a short reader succeeded")
	}
}
