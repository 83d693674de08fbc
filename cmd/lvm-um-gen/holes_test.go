package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mendersoftware/mender-artifact/artifact"
	"github.com/mendersoftware/mender-artifact/awriter"
	"github.com/mendersoftware/mender-artifact/handlers"
	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// The smaller holes of issue 14, item 8.

// randomFile writes n incompressible bytes.
func randomFile(t *testing.T, p string, n int) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// leftovers lists what a run left in dir besides the names in keep.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
outer:
	for _, e := range es {
		for _, k := range keep {
			if e.Name() == k {
				continue outer
			}
		}
		out = append(out, e.Name())
	}
	return out
}

// A SIGHUP (a closed terminal or ssh session), SIGTERM or SIGINT at the
// worst moment, while the new image is being written into the work
// directory, ends the run with exit 1 and leaves nothing behind: no work
// directory, no .rootfs.tmp, no temporary output.
func TestBinarySignalsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	old, rootfs := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeTree(t, old, map[string]string{"etc/version": "1\n"})
	for i := 0; i < 8; i++ {
		randomFile(t, filepath.Join(rootfs, "usr/lib", "lib"+string(rune('a'+i))+".so"), 5<<20)
	}
	base := filepath.Join(dir, "base.ext4")
	mkfsImage(t, old, base, "256M")
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(sig.String(), " ", ""))
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binPath, "generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "1GiB",
				"-n", "v2", "-t", "d", "-o", filepath.Join(out, "a.mender"), "--image-out", filepath.Join(out, "a.ext4"),
				"--report", filepath.Join(out, "r.json"), "-q")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			at := waitForImageTemp(out, done)
			if at == "" {
				t.Fatalf("the run ended before it wrote its image: %q", stderr.String())
			}
			t.Logf("signal while %s exists", at)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatal("no exit after the signal")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || stderr.String() != "lvm-um-gen: interrupted; nothing was written\n" {
				t.Fatalf("exit %v, stderr %q", err, stderr.String())
			}
			if left := leftovers(t, out); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// waitForImageTemp polls out until the run's work directory holds the
// image's temporary file (.rootfs.tmp-*), and returns its path; "" if
// the run ended first.
func waitForImageTemp(out string, done chan error) string {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		m, _ := filepath.Glob(filepath.Join(out, ".lvm-um-gen-*", ".rootfs.tmp-*"))
		if len(m) > 0 {
			return m[0]
		}
		select {
		case err := <-done:
			done <- err
			return ""
		case <-time.After(2 * time.Millisecond):
		}
	}
	return ""
}

// cd rootfs; lvm-um-gen generate --rootfs . -o release.mender: the run's
// work directory is not created inside the rootfs it reads, so the image
// holds exactly the tree (no /.lvm-um-gen-NNN, the root's own mtime).
func TestBinaryOutputsInsideRootfs(t *testing.T) {
	fsck := ext4test.Tool(t, "e2fsck")
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	old, rootfs := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeTree(t, old, map[string]string{"etc/version": "1\n"})
	writeTree(t, rootfs, map[string]string{"etc/version": "2\n", "usr/bin/app": strings.Repeat("app ", 3000)})
	base := filepath.Join(dir, "base.ext4")
	mkfsImage(t, old, base, "16M")
	snap := ext4test.SnapshotDir(t, rootfs)
	cmd := exec.Command(binPath, "generate", "--base", base, "--rootfs", ".", "--snapshot-size", "32MiB",
		"-n", "v2", "-t", "d", "-o", "release.mender", "--image-out", "release.ext4", "--report", "release.json", "-q")
	cmd.Dir = rootfs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	img := filepath.Join(rootfs, "release.ext4")
	if out, err := exec.Command(fsck, "-fn", img).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, out)
	}
	co := ext4test.EngineCheckOptions()
	co.Compare.Times = ext4test.TimesIgnore
	for judge, got := range map[string]*ext4test.Snapshot{"debugfs": ext4test.SnapshotImage(t, img), "go-ext4": ext4test.SnapshotGoExt4(t, img)} {
		for p := range got.Entries {
			if strings.HasPrefix(p, ".lvm-um-gen") || strings.Contains(p, ".tmp-") {
				t.Errorf("%s: the image holds /%s", judge, p)
			}
		}
		if !ext4test.Compare(t, snap, got, co.Compare) {
			t.Errorf("%s: the image is not the rootfs as it was before the run", judge)
		}
	}
	if left := leftovers(t, rootfs, "etc", "usr", "release.mender", "release.ext4", "release.json"); len(left) != 0 {
		t.Errorf("left in the rootfs: %v", left)
	}
	if left := leftovers(t, dir, "old", "new", "base.ext4"); len(left) != 0 {
		t.Errorf("left beside the rootfs: %v", left)
	}
}

// generate writes nothing to TMPDIR (the artifact's payload is compressed
// in the work directory, next to the artifact): with a 1 MiB TMPDIR it
// succeeds and leaves nothing there. A full output directory is one
// sentence naming the file, not a library's dump of a tar header; exit 1
// (an I/O error), nothing left.
func TestBinaryNoSpace(t *testing.T) {
	needRoot(t, "mount a tmpfs")
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.Mkdir(small, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", small, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer unix.Unmount(small, 0)
	old, rootfs := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeTree(t, old, map[string]string{"etc/version": "1\n"})
	writeTree(t, rootfs, map[string]string{"etc/version": "2\n"})
	randomFile(t, filepath.Join(rootfs, "usr/lib/big"), 3<<20)
	base := filepath.Join(dir, "base.ext4")
	mkfsImage(t, old, base, "16M")
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	generate := func(artifact string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(binPath, "generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "32MiB",
			"-n", "v2", "-t", "d", "-o", artifact, "-q")
		cmd.Env = append(os.Environ(), "TMPDIR="+small)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		return cmd, &stderr
	}

	cmd, stderr := generate(filepath.Join(out, "a.mender"))
	if err := cmd.Run(); err != nil {
		t.Fatalf("generate with a 1 MiB TMPDIR: %v\n%s", err, stderr)
	}
	if left := leftovers(t, small); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}

	cmd, stderr = generate(filepath.Join(small, "a.mender"))
	err := cmd.Run()
	var ee *exec.ExitError
	msg := stderr.String()
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || strings.Count(msg, "\n") != 1 {
		t.Fatalf("exit %v, stderr %q", err, msg)
	}
	if want := "no space left on device writing " + small + "/"; !strings.Contains(msg, want) {
		t.Errorf("stderr %q lacks %q", msg, want)
	}
	if strings.Contains(msg, "&{") || len(msg) > 300 {
		t.Errorf("stderr is not one sentence: %q", msg)
	}
	if left := leftovers(t, small); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// A module-image artifact of another type is not a base, even with an
// ext4 image as its one payload file: exit 2 naming the type.
func TestBinaryBaseOfAnotherType(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	old := filepath.Join(dir, "old")
	writeTree(t, old, map[string]string{"etc/version": "1\n"})
	img := filepath.Join(dir, "rootfs")
	mkfsImage(t, old, img, "8M")
	foo := filepath.Join(dir, "foo.mender")
	f, err := os.Create(foo)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := artifact.NewCompressorFromId("gzip")
	if err != nil {
		t.Fatal(err)
	}
	m := handlers.NewModuleImage("foo")
	if err := m.SetUpdateFiles([]*handlers.DataFile{{Name: img}}); err != nil {
		t.Fatal(err)
	}
	typ := "foo"
	if err := awriter.NewWriter(f, comp).WriteArtifact(&awriter.WriteArtifactArgs{
		Format: "mender", Version: 3, Devices: []string{"d"}, Name: "foo-1",
		Updates:    &awriter.Updates{Updates: []handlers.Composer{m}},
		Depends:    &artifact.ArtifactDepends{CompatibleDevices: []string{"d"}},
		Provides:   &artifact.ArtifactProvides{ArtifactName: "foo-1"},
		TypeInfoV3: &artifact.TypeInfoV3{Type: &typ},
	}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, "generate", "--base", foo, "--rootfs", old, "--snapshot-size", "32MiB",
		"-n", "v2", "-t", "d", "-o", filepath.Join(out, "a.mender"))
	if code != exitUsage || !strings.Contains(stderr, "--base "+foo) || !strings.Contains(stderr, `"foo"`) || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if left := leftovers(t, out); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
