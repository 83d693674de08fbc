package fstree_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
)

// TestRefusesExtentOverMetadata points a file's first extent at an inode
// table block and at a block bitmap (e2fsck agrees the result is corrupt).
// Read refuses the image as a source, naming the path, the inode and the
// structure, and SyncImage refuses it as a base without writing any output:
// writing the file in place would overwrite filesystem metadata.
func TestRefusesExtentOverMetadata(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a"), bytes.Repeat([]byte("metadata"), 3*1024/8), 0o644); err != nil {
		t.Fatal(err)
	}
	img := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: 1024, Size: 16 << 20})
	clean, err := fstree.Read(open(t, img, 1024))
	if err != nil {
		t.Fatal(err)
	}
	ino := clean.Inode["a"]
	for _, kind := range []string{"inode table", "block bitmap"} {
		t.Run(kind, func(t *testing.T) {
			blk, what := firstMetadata(t, open(t, img, 1024), kind)
			bad := filepath.Join(t.TempDir(), "bad.img")
			b, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bad, b, 0o644); err != nil {
				t.Fatal(err)
			}
			debugfsW(t, bad, fmt.Sprintf("sif /a block[5] %d", blk)) // ee_start_lo of the first extent
			if ext4test.FsckErr(bad) == nil {
				t.Fatal("e2fsck finds the damaged image clean")
			}
			want := fmt.Sprintf("extent 0 maps physical [%d, %d) over %s", blk, blk+3, what)
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, fs.ErrCorrupt) || !strings.Contains(err.Error(), `"/a"`) ||
					!strings.Contains(err.Error(), fmt.Sprintf("inode %d", ino)) || !strings.Contains(err.Error(), want) {
					t.Fatalf("%s: %v\nwant ErrCorrupt naming /a, inode %d and %q", op, err, ino, want)
				}
			}
			_, err = fstree.Read(open(t, bad, 1024))
			check("Read", err)
			out := filepath.Join(t.TempDir(), "out.img")
			_, err = ext4sync.SyncImage(t.Context(), bad, clean.Tree, out, ext4sync.Options{})
			check("SyncImage", err)
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("SyncImage left an output: %v", err)
			}
		})
	}
}

// firstMetadata is the first block that MetadataIn places in a structure of
// the given kind, and its description.
func firstMetadata(t *testing.T, f *fs.FS, kind string) (uint64, string) {
	t.Helper()
	for b := f.Geometry().FirstDataBlock; b < f.BlocksCount(); b++ {
		if what := f.MetadataIn(b, 1); strings.Contains(what, kind) {
			return b, what
		}
	}
	t.Fatalf("no %s block", kind)
	return 0, ""
}
