package ext4sync

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// With SourceDateEpoch set, every inode the sync writes gets it as atime,
// ctime and crtime (mtime stays the source's, nanoseconds included); an
// inode the sync does not need to touch keeps all of its old times.
func TestSourceDateEpoch(t *testing.T) {
	const epoch = 1750000000
	src := genSource(t, 21, smallTree(4096))
	base := ext4test.BuildImage(t, src, configs[0].img)
	img, _ := syncFile(t, base, src)

	changed, added, untouched := "changed.txt", "added.txt", "untouched.txt"
	for _, name := range []string{changed, untouched} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, _ = syncFile(t, img, src)
	before := ext4test.SnapshotImage(t, img)

	mtime := time.Unix(1740000000, 123456789)
	if err := os.WriteFile(filepath.Join(src, changed), []byte("new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, added), []byte("added"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{changed, added} {
		if err := os.Chtimes(filepath.Join(src, name), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	e := int64(epoch)
	out := filepath.Join(t.TempDir(), "out.ext4")
	if _, err := SyncImage(img, readTree(t, src), out, Options{SourceDateEpoch: &e}); err != nil {
		t.Fatal(err)
	}
	opts := ext4test.EngineCheckOptions()
	opts.Compare.Times = ext4test.TimesIgnore
	ext4test.CheckImageWith(t, out, src, opts)

	after := ext4test.SnapshotImage(t, out)
	want := ext4test.Time{Sec: epoch}
	for _, name := range []string{changed, added} {
		got := after.Entries[name]
		if got == nil {
			t.Fatalf("%s missing", name)
		}
		if got.Atime != want || got.Ctime != want || got.Crtime != want {
			t.Errorf("%s: atime %v ctime %v crtime %v, want all %v", name, got.Atime, got.Ctime, got.Crtime, want)
		}
		if got.Mtime != (ext4test.Time{Sec: mtime.Unix(), Nsec: uint32(mtime.Nanosecond())}) {
			t.Errorf("%s: mtime %v, want %v", name, got.Mtime, mtime)
		}
	}
	b, a := before.Entries[untouched], after.Entries[untouched]
	if a == nil || b == nil || a.Atime != b.Atime || a.Ctime != b.Ctime || a.Crtime != b.Crtime || a.Mtime != b.Mtime {
		t.Errorf("untouched file's times changed: before %+v after %+v", b, a)
	}
}
