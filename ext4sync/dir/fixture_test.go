package dir

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

const (
	bigCount    = 3000
	smallCount  = 5
	fixSeed     = 42
	fixUUID     = "6b0b7e4c-31a4-4d0e-9c55-0a2f1f7d9e01"
	fixHashSeed = "2f1c9a3e-8d47-4b6a-b0e2-5c7d91a4f608"
)

// bigName is the i'th name in /bigdir: varied lengths, some non-ASCII bytes
// (so signed and unsigned hashes differ).
func bigName(r *rand.Rand, i int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789_-."
	n := 1 + r.Intn(40)
	b := make([]byte, 0, n+8)
	for range n {
		b = append(b, alpha[r.Intn(len(alpha))])
	}
	s := fmt.Sprintf("%s%d", b, i)
	if i%7 == 0 {
		s += "-é"
	}
	return s
}

// buildTree writes the fixture rootfs: /target (a file every /bigdir name
// links to), /bigdir with bigCount names plus a subdir and a symlink,
// /small with a few names, /a/sub and /b for a move.
func buildTree(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"bigdir/sub1", "small", "a/sub", "b"} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	target := filepath.Join(root, "target")
	must(os.WriteFile(target, []byte("content\n"), 0o644))
	r := rand.New(rand.NewSource(fixSeed))
	for i := range bigCount {
		must(os.Link(target, filepath.Join(root, "bigdir", bigName(r, i))))
	}
	must(os.Symlink("../target", filepath.Join(root, "bigdir", "sym")))
	for i := range smallCount {
		must(os.WriteFile(filepath.Join(root, "small", fmt.Sprintf("f%d", i)), nil, 0o644))
	}
	return root
}

var (
	fixMu   sync.Mutex
	fixImgs = map[string]string{}
	fixDir  string
)

// noCsum is the fixture variant without metadata_csum.
var noCsum = []string{"-O", "^metadata_csum,^metadata_csum_seed"}

// fixture returns the (read-only, shared) base image at block size bs.
func fixture(t testing.TB, bs int) string {
	t.Helper()
	return fixtureWith(t, bs)
}

// fixtureWith is fixture with extra mkfs.ext4 options.
func fixtureWith(t testing.TB, bs int, extra ...string) string {
	t.Helper()
	ext4test.RequireTools(t, e2fsprogs...)
	fixMu.Lock()
	defer fixMu.Unlock()
	key := fmt.Sprint(bs, extra)
	if img, ok := fixImgs[key]; ok {
		return img
	}
	if fixDir == "" {
		d, err := os.MkdirTemp("", "ext4dir-fixture")
		if err != nil {
			t.Fatal(err)
		}
		fixDir = d
	}
	tree := buildTree(t)
	// A fixed UUID and hash seed make the fixture, and so every scenario's
	// block layout, the same on every run.
	img := mkImage(t, tree, bs, "32M", append([]string{"-U", fixUUID, "-E", "hash_seed=" + fixHashSeed}, extra...)...)
	dst := filepath.Join(fixDir, fmt.Sprintf("base-%d.img", len(fixImgs)))
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fixImgs[key] = dst
	return dst
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}
