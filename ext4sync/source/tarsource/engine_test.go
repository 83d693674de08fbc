package tarsource

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// TestSyncFromTar: the tree of a GNU tar of a rootfs, synced by the engine
// onto an empty base, gives an image e2fsck accepts and that reads back
// (fstree) as the same tree: metadata, xattrs, links, contents.
func TestSyncFromTar(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	fsck := ext4test.Tool(t, "e2fsck")
	root := fixtureDir(t)
	dt, err := dirsource.Read(root, dirsource.Options{})
	must(t, err)
	tt, err := Open(gnuTar(t, root, "posix"), Options{})
	must(t, err)
	sameTrees(t, "gnu tar", tt, dt, true)
	work := t.TempDir()
	empty := filepath.Join(work, "empty")
	must(t, os.Mkdir(empty, 0o755))
	base := filepath.Join(work, "base.img")
	cmd := exec.Command(mkfs, "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", "4096", "-d", empty, base, "32M")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	// As a Yocto build does: fsck -pfD, where exit 1 (fixed) is fine.
	if out, err := exec.Command(ext4test.Tool(t, "fsck.ext4"), "-pfD", base).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("fsck.ext4 -pfD: %v\n%s", err, out)
		}
	}
	out := filepath.Join(work, "out.img")
	if _, err := ext4sync.SyncImage(t.Context(), base, tt, out, ext4sync.Options{}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if msg, err := exec.Command(fsck, "-fn", out).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, msg)
	}
	dev, err := overlay.Open(out, overlay.Options{})
	must(t, err)
	defer dev.Close()
	f, err := fs.Open(dev, fs.Options{})
	must(t, err)
	res, err := fstree.Read(f)
	must(t, err)
	var nodes []*tree.Node
	for _, n := range res.Tree.Nodes {
		if n.Path != "lost+found" {
			nodes = append(nodes, n)
		}
	}
	sameTrees(t, "image synced from the tar", tree.New(nodes, res.Tree.Contents), tt, true)
}
