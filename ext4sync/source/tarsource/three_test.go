package tarsource

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

const fakeTime = 1700000000

// TestThreeSourcesOneImage is issue 3's equivalence: one rootfs handed over
// as a directory, as a GNU tar and as a freshly built ext4 image (what
// Yocto's do_image makes) must sync onto the same base as byte-identical
// images, whatever order each source delivers content in (GNU tar's is
// readdir order). It runs onto an empty base (everything new) and onto an
// older release of the tree (kept, changed, removed and new files), with
// the default placement and with the cost-aware one (which relocates
// files). Mtimes are whole seconds, as in a SOURCE_DATE_EPOCH build
// (mkfs.ext4 -d drops nanoseconds).
func TestThreeSourcesOneImage(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	fsck := ext4test.Tool(t, "e2fsck")
	root := fixtureDir(t)
	// mkfs.ext4 -d stamps the root directory with its own time, not the
	// source root's mtime: give the source root that time so the image
	// source can agree.
	wholeSeconds(t, root, fakeTime)
	work := t.TempDir()
	if d := os.Getenv("LVMUM_KEEP"); d != "" {
		work = d
	}
	empty := filepath.Join(work, "empty")
	must(t, os.Mkdir(empty, 0o755))
	older := olderRelease(t, root, work)
	bases := map[string]string{"empty": filepath.Join(work, "empty.img"), "older": filepath.Join(work, "older.img")}
	mkimage(t, mkfs, empty, bases["empty"], fakeTime)
	mkimage(t, mkfs, older, bases["older"], fakeTime)
	built := filepath.Join(work, "built.img")
	mkimage(t, mkfs, root, built, fakeTime)
	sources := threeSources(t, root, built)

	placements := map[string]func() fs.Placement{
		"default": func() fs.Placement { return nil },
		"cost-aware": func() fs.Placement {
			return placement.New(blockmap.Model{WriteUnit: 64 << 10, Chunk: 4096}, nil)
		},
	}
	for baseName, base := range bases {
		for plName, newPlacement := range placements {
			t.Run(baseName+"/"+plName, func(t *testing.T) {
				syncSame(t, fsck, base, filepath.Join(work, baseName+"-"+plName), sources, newPlacement)
			})
		}
	}
}

// TestThreeSourcesOneImageLaterMkfs is TestThreeSourcesOneImage with the
// ext4 image source built by a later mkfs run than the base, as a real
// release's is: its lost+found carries that run's times. They are not the
// rootfs's content, so the base's lost+found stays and the image source
// still gives the directory's and the tar's bytes (issue 12).
func TestThreeSourcesOneImageLaterMkfs(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	fsck := ext4test.Tool(t, "e2fsck")
	const later = fakeTime + 86400
	root := fixtureDir(t)
	wholeSeconds(t, root, later)
	work := t.TempDir()
	base := filepath.Join(work, "older.img")
	mkimage(t, mkfs, olderRelease(t, root, work), base, fakeTime)
	built := filepath.Join(work, "built.img")
	mkimage(t, mkfs, root, built, later)
	sources := threeSources(t, root, built)
	if a, b := sources["ext4 image"].Lookup("lost+found"), sources["directory"].Lookup("lost+found"); a == nil || b != nil || a.Mtime.Sec != later {
		t.Fatalf("the fixture: the image source's lost+found %+v, the directory's %+v", a, b)
	}
	syncSame(t, fsck, base, filepath.Join(work, "older"), sources, func() fs.Placement { return nil })
}

// wholeSeconds gives every path under root whole-second times, as in a
// SOURCE_DATE_EPOCH build (mkfs.ext4 -d drops nanoseconds), and root
// itself the time rootTime.
func wholeSeconds(t *testing.T, root string, rootTime int64) {
	t.Helper()
	must(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		ts := unix.NsecToTimespec(fi.ModTime().Unix() * 1e9)
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	}))
	rootTS := unix.NsecToTimespec(rootTime * 1e9)
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, root, []unix.Timespec{rootTS, rootTS}, 0))
}

// mkimage builds img from the directory src as Yocto's do_image does, with
// mkfs's clock at when.
func mkimage(t *testing.T, mkfs, src, img string, when int64) {
	t.Helper()
	cmd := exec.Command(mkfs, "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", "4096",
		"-U", "6c766d2d-756d-2d67-656e-2d7468726565", "-E", "hash_seed=6c766d2d-756d-2d67-656e-2d6861736832",
		"-d", src, img, "32M")
	cmd.Env = append(os.Environ(), fmt.Sprintf("E2FSPROGS_FAKE_TIME=%d", when))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
}

// threeSources reads the rootfs at root as a directory and as a GNU tar,
// and the image built of it as an ext4 image source.
func threeSources(t *testing.T, root, built string) map[string]*tree.Tree {
	t.Helper()
	dirTree, err := dirsource.Read(root, dirsource.Options{})
	must(t, err)
	tarTree, err := Open(gnuTar(t, root, "posix"), Options{})
	must(t, err)
	dev, err := overlay.Open(built, overlay.Options{})
	must(t, err)
	t.Cleanup(func() { dev.Close() })
	bfs, err := fs.Open(dev, fs.Options{})
	must(t, err)
	img, err := fstree.Read(bfs)
	must(t, err)
	return map[string]*tree.Tree{"directory": dirTree, "tar": tarTree, "ext4 image": img.Tree}
}

// syncSame syncs base to every source (outputs named prefix-label.out),
// checks each output with e2fsck -fn, and that the tar's and the image's
// are the directory's bytes.
func syncSame(t *testing.T, fsck, base, prefix string, sources map[string]*tree.Tree, newPlacement func() fs.Placement) {
	t.Helper()
	images := map[string][]byte{}
	for label, src := range sources {
		out := prefix + "-" + label + ".out"
		if _, err := ext4sync.SyncImage(t.Context(), base, src, out, ext4sync.Options{Placement: newPlacement()}); err != nil {
			t.Fatalf("%s: sync: %v", label, err)
		}
		if msg, err := exec.Command(fsck, "-fn", out).CombinedOutput(); err != nil {
			t.Fatalf("%s: e2fsck -fn: %v\n%s", label, err, msg)
		}
		b, err := os.ReadFile(out)
		must(t, err)
		images[label] = b
	}
	for _, label := range []string{"tar", "ext4 image"} {
		if a, b := images["directory"], images[label]; !bytes.Equal(a, b) {
			first := 0
			for first < len(a) && a[first] == b[first] {
				first++
			}
			t.Errorf("the image synced from the %s differs from the directory's (first at byte %d, block %d of 4 KiB)", label, first, first/4096)
		}
	}
}

// olderRelease copies the tree to a sibling and makes it an older release
// of it: a file with other bytes in a few places, a file the new tree
// adds, and one it removes, so a sync onto its image keeps, changes,
// creates and frees.
func olderRelease(t *testing.T, root, work string) string {
	t.Helper()
	older := filepath.Join(work, "older")
	if out, err := exec.Command("cp", "-a", root, older).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	ping := filepath.Join(older, "bin/ping")
	b, err := os.ReadFile(ping)
	must(t, err)
	for _, off := range []int{10, 5000, 14000} {
		b[off] ^= 0xff
	}
	must(t, os.WriteFile(ping, b, 0o755))
	must(t, os.Remove(filepath.Join(older, "bin/su")))
	must(t, os.WriteFile(filepath.Join(older, "etc/gone"), bytes.Repeat([]byte("old"), 40000), 0o644))
	return older
}
