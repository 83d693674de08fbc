package ext4sync

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// TestHolesOnlySpareReading: a source's data ranges (tree.Node.Data) only
// spare reading a sparse file's holes. The same tree with every file
// taken as dense (Data nil, as dirsource takes a file whose allocated
// blocks cover its size, an xattr or extent tree block making up for a
// hole) is read in full, its holes as zeros, and makes the same image
// byte for byte: for a new sparse file and for a kept file that becomes
// sparse over blocks the base holds.
func TestHolesOnlySpareReading(t *testing.T) {
	src := plainTree(t, map[string]string{"etc/motd": "hi\n", "var/kept": string(bytes.Repeat([]byte("k"), 40000))})
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{NormalizeTimes: true})
	kept, added := filepath.Join(src, "var/kept"), filepath.Join(src, "var/new")
	if err := os.Remove(kept); err != nil {
		t.Fatal(err)
	}
	writeAt(t, kept, 0, bytes.Repeat([]byte("k"), 5000)) // the base's bytes, then a hole
	writeAt(t, kept, 64<<10, bytes.Repeat([]byte("b"), 3000))
	writeAt(t, added, 8192, bytes.Repeat([]byte("n"), 100))
	for p, size := range map[string]int64{kept: 100 << 10, added: 40 << 10} {
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
	}

	sparse, dense := readTree(t, src), readTree(t, src)
	for _, p := range []string{"var/kept", "var/new"} {
		if n := sparse.Lookup(p); n == nil || n.Data == nil {
			t.Skipf("the filesystem of %s does not report the holes of %s", src, p)
		}
	}
	for _, n := range dense.Nodes {
		n.Data = nil
	}
	var imgs [2][]byte
	for i, tr := range []*tree.Tree{sparse, dense} {
		out := filepath.Join(t.TempDir(), "out.ext4")
		if _, err := SyncImage(t.Context(), base, tr, out, Options{}); err != nil {
			t.Fatalf("SyncImage: %v", err)
		}
		if i == 0 {
			ext4test.CheckImage(t, out, src) // the other must be the same bytes
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		imgs[i] = b
	}
	if !bytes.Equal(imgs[0], imgs[1]) {
		t.Error("the tree read as dense made another image than the one with its holes")
	}
}
