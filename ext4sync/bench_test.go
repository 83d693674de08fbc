package ext4sync

import (
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
)

// BenchmarkNoOpSync measures the floor of every release: reading the
// image's tree, planning, and comparing every file's content, on a tree of
// 5000 files.
func BenchmarkNoOpSync(b *testing.B) {
	o := smallTree(4096)
	o.Files, o.Dirs, o.MaxSize = 5000, 300, 32<<10
	src := genSource(b, 5, o)
	base := ext4test.BuildImage(b, src, ext4test.ImageOptions{Size: 256 << 20, NormalizeTimes: true})
	img, _ := syncFile(b, base, src)
	tr := readTree(b, src)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dev, err := overlay.Open(img, overlay.Options{})
		if err != nil {
			b.Fatal(err)
		}
		f, err := fs.Open(dev, fs.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Sync(b.Context(), f, tr, Options{}); err != nil {
			b.Fatal(err)
		}
		if n := dev.ChangedCount(); n != 0 {
			b.Fatalf("no-op changed %d blocks", n)
		}
		dev.Close()
	}
}
