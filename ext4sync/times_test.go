package ext4sync

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// With SourceDateEpoch set, every inode the sync writes gets it as atime,
// ctime and crtime (mtime stays the source's, nanoseconds included); an
// inode the sync does not need to touch keeps all of its old times.
func TestSourceDateEpoch(t *testing.T) {
	t.Parallel()
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
	if _, err := SyncImage(t.Context(), img, readTree(t, src), out, Options{SourceDateEpoch: &e}); err != nil {
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

// Issue 14, item 4: an inode without the extra time fields (128-byte
// inodes) holds a signed 32-bit second. A time outside 1901..2038 is
// clamped as the kernel clamps it (2100-01-01 reads 2038-01-19 03:14:07,
// never the wrapped 1963-11-25), with larger inodes it is kept exactly,
// and a second sync of the same tree writes nothing: the plan compares
// what the inode can hold.
func TestTimesOutsideInodeRange(t *testing.T) {
	t.Parallel()
	const (
		y2100 = 4102444800  // 2100-01-01
		y1850 = -3786825600 // 1850-01-01
	)
	for _, isz := range []int{128, 256} {
		t.Run(fmt.Sprintf("inode%d", isz), func(t *testing.T) {
			t.Parallel()
			o := smallTree(4096)
			o.Files, o.Dirs = 20, 4
			src := genSource(t, 150, o)
			base := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: 4096, InodeSize: isz, NormalizeTimes: true})
			times := map[string]int64{"future": y2100, "past": y1850, "futuredir": y2100}
			for name, sec := range times {
				p := filepath.Join(src, name)
				var err error
				if name == "futuredir" {
					err = os.Mkdir(p, 0o755)
				} else {
					err = os.WriteFile(p, []byte(name), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
				ts := []unix.Timespec{{Sec: sec, Nsec: 5}, {Sec: sec, Nsec: 5}}
				if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
					t.Fatal(err)
				}
			}
			out, _ := syncFile(t, base, src)
			co := ext4test.EngineCheckOptions()
			co.Compare.IgnoreAt = map[string]ext4test.Field{}
			for name := range times {
				co.Compare.IgnoreAt[name] = ext4test.FieldMtime | ext4test.FieldMtimeNs | ext4test.FieldAtime | ext4test.FieldCtime | ext4test.FieldCrtime
			}
			if isz == 128 {
				co.Compare.Ignore |= ext4test.FieldMtimeNs | ext4test.FieldCrtime // no room for either
			}
			ext4test.CheckImageWith(t, out, src, co)
			judges := map[string]*ext4test.Snapshot{"debugfs": ext4test.SnapshotImage(t, out), "go-ext4": ext4test.SnapshotGoExt4(t, out)}
			if ok, _ := ext4test.KernelAvailable(); ok {
				judges["kernel"] = ext4test.SnapshotKernel(t, out)
			}
			for judge, snap := range judges {
				for name, sec := range times {
					want, _ := disk.TruncateTime(sec, 5, isz > 128)
					if judge == "go-ext4" && want < 0 {
						want = int64(uint32(want)) // it reads i_mtime unsigned
					}
					if e := snap.Entries[name]; e == nil || e.Mtime.Sec != want {
						t.Errorf("%s: %s: mtime %+v, want %d", judge, name, e, want)
					}
				}
			}
			dev, res := syncOverlay(t, out, src)
			if n := dev.ChangedCount(); n != 0 || res.Changed+res.Added+res.Removed != 0 {
				t.Errorf("second sync changed %d blocks, result %+v", n, *res)
			}
		})
	}
}

// Issue 14, item 8: a no-op release onto a base with 128-byte inodes
// built from a tree with nanosecond mtimes (which such inodes cannot
// hold) reports no path changed, as no block changes.
func TestNoOpOn128ByteInodes(t *testing.T) {
	t.Parallel()
	src := genSource(t, 151, smallTree(4096))
	root := []unix.Timespec{{Sec: ext4test.DefaultFakeTime}, {Sec: ext4test.DefaultFakeTime}}
	if err := unix.Chmod(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lchown(src, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, src, root, 0); err != nil {
		t.Fatal(err)
	}
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: 4096, InodeSize: 128, NormalizeTimes: true})
	dev, res := syncOverlay(t, base, src)
	if n := dev.ChangedCount(); n != 0 || res.Changed+res.Added+res.Removed != 0 || res.Unchanged == 0 {
		t.Errorf("no-op sync changed %d blocks, result +%d ~%d -%d =%d", n, res.Added, res.Changed, res.Removed, res.Unchanged)
	}
}
