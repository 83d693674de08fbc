package ext4test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// GenTree and Mutate must produce every case the engine has to handle,
// and mkfs must turn the big directory into an htree.
func TestGenCoverage(t *testing.T) {
	t.Parallel()
	RequireTools(t, "mkfs.ext4", "fsck.ext4", "debugfs")
	o := DefaultGenOptions()
	o.BigDir = 1000
	o.Sparse, o.Specials = 12, 16
	src := genSrc(t, 11, o)
	s := SnapshotDir(t, src)
	img := BuildImage(t, src, ImageOptions{})
	ops, err := Mutate(rand.New(rand.NewPCG(12, 13)), src, MutateOptions{Ops: 200})
	if err != nil {
		t.Fatal(err)
	}
	did := map[string]bool{}
	for _, op := range ops {
		did[strings.Fields(op)[0]] = true
	}
	for _, op := range []string{"add-file", "add-dir", "add-symlink", "add-special", "remove", "remove-tree",
		"modify", "grow", "shrink", "truncate-zero", "rename", "chmod", "chown", "setxattr", "removexattr",
		"setacl", "link", "unlink-copy", "file->dir", "dir->file", "file->symlink", "touch"} {
		if !did[op] {
			t.Errorf("Mutate never did %s", op)
		}
	}
	if !did["add-sparse"] && !did["extend-hole"] {
		t.Errorf("Mutate made no sparse file")
	}
	seen := map[string]bool{}
	for _, e := range s.Entries {
		seen[e.Kind.String()] = true
		if e.Mode&0o4000 != 0 {
			seen["setuid"] = true
		}
		if e.Mode&0o2000 != 0 {
			seen["setgid"] = true
		}
		if e.Mode&0o1000 != 0 {
			seen["sticky"] = true
		}
		if e.UID > 1<<31 || e.GID > 1<<31 {
			seen["id>2^31"] = true
		}
		if e.Kind == tree.Symlink && len(e.Target) < fastLinkLimit {
			seen["fast-symlink"] = true
		}
		if e.Kind == tree.Symlink && len(e.Target) > 1000 {
			seen["long-symlink"] = true
		}
		if (e.Kind == tree.CharDev || e.Kind == tree.BlockDev) && e.Minor > 255 {
			seen["large-minor"] = true
		}
		if e.Kind == tree.Regular && e.Nlink > 1 {
			seen["hardlink"] = true
		}
		if e.Kind == tree.Regular && len(e.Data) > 0 && e.Data[0].Off > 0 {
			seen["hole-at-start"] = true
		}
		if strings.Count(e.Path, "/") > 20 {
			seen["deep-path"] = true
		}
		for n := range e.Xattrs {
			seen[strings.SplitN(n, ".", 2)[0]+"."] = true
			seen[n] = true
		}
	}
	for _, k := range []string{"regular", "directory", "symlink", "char-device", "block-device", "fifo", "socket",
		"setuid", "setgid", "sticky", "id>2^31", "fast-symlink", "long-symlink", "large-minor", "hardlink",
		"hole-at-start", "deep-path", "user.", "trusted.", "security.capability", "security.selinux",
		aclAccess, aclDefault} {
		if !seen[k] {
			t.Errorf("generated tree has no %s", k)
		}
	}
	var big string
	children := map[string]int{}
	for _, p := range s.Paths() {
		if i := strings.LastIndexByte(p, '/'); i > 0 {
			children[p[:i]]++
		}
	}
	for p, n := range children {
		if n >= o.BigDir {
			big = p
		}
	}
	if big == "" {
		t.Fatal("no big directory")
	}
	res, err := debugfsBatch(img, []string{"stat /" + big}, false, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res["stat /"+big], "\n"), "Flags: 0x81000") {
		t.Errorf("big directory is not an htree (want EXT4_INDEX_FL|EXTENTS_FL): %q", res["stat /"+big][:2])
	}
}
