package file_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
)

// setXattrsBoth makes attrs p's xattrs in the image and in the source.
func (x *fixture) setXattrsBoth(p string, attrs []tree.Xattr) bool {
	x.t.Helper()
	in := x.open(p)
	changed, err := in.SetXattrs(attrs)
	if err != nil {
		x.t.Fatal(err)
	}
	x.save(in)
	full := filepath.Join(x.src, p)
	buf := make([]byte, 64<<10)
	n, _ := unix.Llistxattr(full, buf)
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name != "" {
			unix.Lremovexattr(full, name)
		}
	}
	for _, a := range attrs {
		x.setXattr(p, a.Name, a.Value)
	}
	got, err := x.open(p).Xattrs()
	if err != nil || !xattr.Equal(codecAttrsOf(got), codecAttrsOf(attrs)) {
		x.t.Errorf("%s: xattrs read back %v (err %v), want %v", p, got, err, attrs)
	}
	return changed
}

// TestSetXattrs puts xattrs in the inode body, in a block, ACLs in VFS
// encoding, moves them between the two and removes them.
func TestSetXattrs(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		x := newFixture(t, v, func(x *fixture) {
			for _, p := range []string{"none", "small", "toblock", "acl", "drop"} {
				x.write(p, []byte(p))
			}
			x.setXattr("small", "user.a", []byte("1"))
			x.setXattr("toblock", "user.a", []byte("1"))
			x.setXattr("drop", "user.big", bytes.Repeat([]byte("v"), 700))
		})
		big := bytes.Repeat([]byte("B"), 600)
		cases := []struct {
			path  string
			attrs []tree.Xattr
		}{
			{"none", []tree.Xattr{{Name: "security.selinux", Value: []byte("system_u:object_r:etc_t:s0\x00")}, {Name: "user.x", Value: []byte("y")}}},
			{"small", []tree.Xattr{{Name: "user.a", Value: []byte("2")}}},
			{"toblock", []tree.Xattr{{Name: "trusted.t", Value: []byte("t")}, {Name: "user.a", Value: big}, {Name: "user.b", Value: big[:200]}}},
			{"acl", []tree.Xattr{{Name: xattr.NameACLAccess, Value: aclVFS(1234)}}},
			{"drop", nil},
		}
		for _, c := range cases {
			if !x.setXattrsBoth(c.path, c.attrs) {
				t.Errorf("%s: SetXattrs reported no change", c.path)
			}
			if x.setXattrsBoth(c.path, c.attrs) {
				t.Errorf("%s: setting the same xattrs again reported a change", c.path)
			}
		}
		// The VFS derives the group bits from the ACL mask; the sync sets
		// the mode the source reports, as here.
		acl := x.open("acl")
		acl.SetMeta(node(tree.Regular, 0o664))
		x.save(acl)
		x.check()
		// Move the block's attributes back into the body: the block is freed.
		before := x.f.FreeBlocksCount()
		x.setXattrsBoth("toblock", []tree.Xattr{{Name: "user.a", Value: []byte("s")}})
		if got := x.f.FreeBlocksCount(); got != before+1 {
			t.Errorf("free blocks %d after dropping the xattr block, want %d", got, before+1)
		}
		x.check()
	})
}

// TestSetTarget switches symlinks between fast and slow and back.
func TestSetTarget(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		long := strings.Repeat("long/", 30)
		x := newFixture(t, v, func(x *fixture) {
			os.Symlink("short", filepath.Join(x.src, "f2s"))
			os.Symlink(long, filepath.Join(x.src, "s2f"))
			os.Symlink(long, filepath.Join(x.src, "s2s"))
			os.Symlink("a", filepath.Join(x.src, "f2f"))
		})
		before := x.f.FreeBlocksCount()
		for p, target := range map[string]string{"f2s": long + "x", "s2f": "now/fast", "s2s": long + "yy", "f2f": "b"} {
			in := x.open(p)
			changed, err := in.SetTarget(target)
			if err != nil || !changed {
				t.Fatalf("%s: SetTarget: changed %v, %v", p, changed, err)
			}
			if changed, _ := in.SetTarget(target); changed {
				t.Errorf("%s: same target reported a change", p)
			}
			x.save(in)
			os.Remove(filepath.Join(x.src, p))
			os.Symlink(target, filepath.Join(x.src, p))
			if got, err := x.open(p).Target(); got != target || err != nil {
				t.Errorf("%s: target %q (%v), want %q", p, got, err, target)
			}
		}
		if got := x.f.FreeBlocksCount(); got != before {
			t.Errorf("free blocks %d, want %d (one slow link became fast, one fast became slow)", got, before)
		}
		x.check()
	})
}

// TestSetMeta changes permissions, owners and mtime (with nanoseconds).
func TestSetMeta(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		x := newFixture(t, v, func(x *fixture) { x.write("f", []byte("f")) })
		in := x.open("f")
		n, err := in.Node()
		if err != nil {
			t.Fatal(err)
		}
		if in.SetMeta(n) {
			t.Errorf("SetMeta with the inode's own node reported a change")
		}
		n.Mode, n.UID, n.GID = 0o4751, 100000, 70000
		if !in.SetMeta(n) {
			t.Errorf("SetMeta reported no change")
		}
		x.save(in)
		full := filepath.Join(x.src, "f")
		os.Chown(full, 100000, 70000)
		os.Chmod(full, 0o4751|os.ModeSetuid)
		x.check()
	})
}

// TestSymlinkXattrBlock gives fast and slow symlinks an xattr block, and
// switches a fast one to slow with the block in place.
func TestSymlinkXattrBlock(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		long := strings.Repeat("q/", 50)
		x := newFixture(t, v, func(x *fixture) {
			os.Symlink("fast", filepath.Join(x.src, "fast"))
			os.Symlink(long, filepath.Join(x.src, "slow"))
			os.Symlink("grow", filepath.Join(x.src, "grow"))
		})
		big := []tree.Xattr{{Name: "trusted.big", Value: bytes.Repeat([]byte("z"), 700)}}
		for _, p := range []string{"fast", "slow", "grow"} {
			x.setXattrsBoth(p, big)
		}
		in := x.open("grow")
		if _, err := in.SetTarget(long + "g"); err != nil {
			t.Fatal(err)
		}
		x.save(in)
		os.Remove(filepath.Join(x.src, "grow"))
		os.Symlink(long+"g", filepath.Join(x.src, "grow"))
		x.setXattr("grow", "trusted.big", big[0].Value)
		x.check()
	})
}

// codecAttrsOf is x as the xattr codec takes it.
func codecAttrsOf(x []tree.Xattr) []xattr.Attr {
	out := make([]xattr.Attr, len(x))
	for i := range x {
		out[i] = xattr.Attr(x[i])
	}
	return out
}
