package check_test

import (
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// shapes are the base images the checker must accept: Yocto-like mkfs
// images at 1 and 4 KiB blocks, with and without metadata_csum, 32-bit.
var shapes = []struct {
	name string
	opt  ext4test.ImageOptions
}{
	{"4k", ext4test.ImageOptions{BlockSize: 4096}},
	{"1k", ext4test.ImageOptions{BlockSize: 1024}},
	{"4k-nocsum", ext4test.ImageOptions{BlockSize: 4096, Features: []string{"^metadata_csum,^metadata_csum_seed"}}},
	{"1k-nocsum", ext4test.ImageOptions{BlockSize: 1024, Features: []string{"^metadata_csum,^metadata_csum_seed"}}},
	{"4k-32bit", ext4test.ImageOptions{BlockSize: 4096, No64bit: true}},
	{"1k-32bit-nocsum", ext4test.ImageOptions{BlockSize: 1024, No64bit: true, Features: []string{"^metadata_csum,^metadata_csum_seed"}}},
	{"2k-noflex", ext4test.ImageOptions{BlockSize: 2048, Features: []string{"^flex_bg"}}},
}

// TestCleanImagesPass: every image mkfs.ext4 -d and fsck.ext4 -pfD make
// (and e2fsck -fn accepts) passes the checker.
func TestCleanImagesPass(t *testing.T) {
	for i, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			o := ext4test.DefaultGenOptions()
			o.BigDir = 600
			o.MaxTarget = 900
			if err := ext4test.GenTree(rand.New(rand.NewPCG(uint64(i), 7)), src, o); err != nil {
				t.Fatal(err)
			}
			img := ext4test.BuildImage(t, src, s.opt)
			if err := check.File(img); err != nil {
				t.Fatalf("clean %s image refused: %v", s.name, err)
			}
		})
	}
}

// TestDemoImagesPass: the bundled demo images pass.
func TestDemoImagesPass(t *testing.T) {
	for _, name := range []string{"v1.ext4.gz", "v2.ext4.gz"} {
		img := gunzip(t, filepath.Join("..", "..", "testdata", "demo", name))
		if err := check.File(img); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".img")
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
