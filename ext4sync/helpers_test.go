package ext4sync

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// config is one image shape the tests run on.
type config struct {
	name string
	img  ext4test.ImageOptions
}

var configs = []config{
	{"4k", ext4test.ImageOptions{BlockSize: 4096, NormalizeTimes: true}},
	{"1k", ext4test.ImageOptions{BlockSize: 1024, NormalizeTimes: true}},
	{"4k-32bit", ext4test.ImageOptions{BlockSize: 4096, No64bit: true, NormalizeTimes: true}},
}

// TestMain runs every test under the engine's default time policy (times
// follow mtime), whatever the caller's environment says: ext4test's judges
// read SOURCE_DATE_EPOCH too, and a test of the epoch policy sets it
// itself.
func TestMain(m *testing.M) {
	os.Unsetenv("SOURCE_DATE_EPOCH")
	os.Exit(m.Run())
}

// genSource fills a new directory with a random tree.
func genSource(t testing.TB, seed uint64, o ext4test.GenOptions) string {
	t.Helper()
	dir := t.TempDir()
	if err := ext4test.GenTree(rand.New(rand.NewPCG(seed, seed^0x5eed)), dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readTree reads a source directory as the engine sees it.
func readTree(t testing.TB, dir string) *tree.Tree {
	t.Helper()
	tr, err := dirsource.Read(dir, dirsource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// syncFile runs SyncImage from base to a new file in t.TempDir().
func syncFile(t testing.TB, base, srcDir string) (string, *Result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.ext4")
	res, err := SyncImage(t.Context(), base, readTree(t, srcDir), out, Options{})
	if err != nil {
		t.Fatalf("SyncImage: %v", err)
	}
	return out, res
}

// syncOverlay syncs srcDir onto an overlay over img and returns the
// overlay (closed at cleanup) so tests can see exactly what changed; the
// result's Touched is recorded as SyncImage records it.
func syncOverlay(t testing.TB, img, srcDir string) (*overlay.Device, *Result) {
	t.Helper()
	dev, err := overlay.Open(img, overlay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	rec := newRecorder(dev)
	f, err := fs.Open(rec, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec.blockSize = int64(f.BlockSize())
	res, err := syncWith(t.Context(), f, givenTree(readTree(t, srcDir)), Options{}, rec)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return dev, res
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// openOverlayFS opens the filesystem of img on an overlay (closed at
// cleanup), so writes never reach img.
func openOverlayFS(t testing.TB, img string) (*overlay.Device, *fs.FS) {
	t.Helper()
	dev, err := overlay.Open(img, overlay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	f, err := fs.Open(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return dev, f
}
