package check_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// BenchmarkCheck times check.File on the images LVMUM_CHECK_IMAGES lists
// (comma-separated; the release benchmark's 450 MiB bases, say), or on a
// small generated image. Compare with `lvm-um-gen estimate` on the same
// base: generate and estimate check the base and the built image.
func BenchmarkCheck(b *testing.B) {
	var imgs []string
	if v := os.Getenv("LVMUM_CHECK_IMAGES"); v != "" {
		imgs = strings.Split(v, ",")
	} else {
		src := b.TempDir()
		if err := ext4test.GenTree(rand.New(rand.NewPCG(1, 1)), src, ext4test.DefaultGenOptions()); err != nil {
			b.Fatal(err)
		}
		imgs = []string{ext4test.BuildImage(b, src, ext4test.ImageOptions{})}
	}
	for _, img := range imgs {
		b.Run(filepath.Base(img), func(b *testing.B) {
			for b.Loop() {
				if err := check.File(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
