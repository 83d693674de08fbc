package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

// freeRootBlock marks the root directory's first block free in img's
// block bitmap with debugfs (which keeps the checksums and counters
// right): a base whose metadata is inconsistent but whose checksums are
// valid, the damage issue 13 found carried into releases.
func freeRootBlock(t *testing.T, img string) {
	t.Helper()
	debugfs := ext4test.Tool(t, "debugfs")
	out, err := exec.Command(debugfs, "-R", "bmap <2> 0", img).Output()
	if err != nil {
		t.Fatalf("debugfs bmap: %v", err)
	}
	blk := strings.TrimSpace(string(out))
	if o, err := exec.Command(debugfs, "-w", "-R", "freeb "+blk, img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs freeb: %v\n%s", err, o)
	}
}

// TestInconsistentBaseRefused: a base whose block bitmap marks an in-use
// block free is bad input, raw or inside a .mender: generate and estimate
// exit 2 with one line naming the base and the structure, and write
// nothing. The builder never runs.
func TestInconsistentBaseRefused(t *testing.T) {
	e := newEnv(t)
	freeRootBlock(t, e.base)
	art := filepath.Join(e.dir, "base.mender")
	writeBaseArtifact(t, e.base, art)
	for _, base := range []string{e.base, art} {
		for _, args := range [][]string{
			{"generate", "--base", base, "--rootfs", e.rootfs, "--snapshot-size", "32MiB", "-n", "r", "-t", "d",
				"-o", filepath.Join(e.out, "a.mender"), "--image-out", filepath.Join(e.out, "a.ext4"), "--report", filepath.Join(e.out, "r.json")},
			{"estimate", "--base", base, "--rootfs", e.rootfs},
		} {
			code, _, stderr := e.run(t, context.Background(), args...)
			if code != exitUsage {
				t.Fatalf("%s %s: exit %d %q", args[0], base, code, stderr)
			}
			oneErrorLine(t, stderr)
			t.Logf("%s: %s", args[0], stderr)
			for _, want := range []string{"--base " + base, "inconsistent: group 0 block bitmap", "marked free"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("%s %s: stderr %q lacks %q", args[0], base, stderr, want)
				}
			}
			if got := e.outputs(t); len(got) != 0 {
				t.Fatalf("%s %s left %q", args[0], base, got)
			}
		}
	}
	if e.fake.Calls != 0 {
		t.Fatalf("the builder ran %d times on an inconsistent base", e.fake.Calls)
	}
}

// TestInconsistentImageIsABug: when the built image fails the check (here
// a fake builder damages its block bitmap), nothing is published and the
// exit is 1 with a message saying it is a bug and which structure failed.
func TestInconsistentImageIsABug(t *testing.T) {
	e := newEnv(t)
	e.fake.Offsets = []int64{blockBitmapOffset(t, e.base)}
	report := filepath.Join(e.out, "r.json")
	code, _, stderr := e.run(t, context.Background(), e.generateArgs("--report", report, "--image-out", filepath.Join(e.out, "a.ext4"))...)
	if code != exitFailure {
		t.Fatalf("exit %d %q", code, stderr)
	}
	oneErrorLine(t, stderr)
	t.Log(stderr)
	for _, want := range []string{"bug in lvm-um-gen", "nothing was written", "group 0 block bitmap"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if got := e.outputs(t); len(got) != 0 {
		t.Fatalf("left %q", got)
	}
}

// blockBitmapOffset is the byte offset of group 0's block bitmap in img.
func blockBitmapOffset(t *testing.T, img string) int64 {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw := make([]byte, disk.SuperblockSize)
	if _, err := f.ReadAt(raw, disk.SuperblockOffset); err != nil {
		t.Fatal(err)
	}
	var sb disk.Superblock
	if err := sb.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	bs := int64(sb.BlockSize())
	gdt := make([]byte, sb.DescriptorSize())
	if _, err := f.ReadAt(gdt, (int64(sb.FirstDataBlock)+1)*bs); err != nil {
		t.Fatal(err)
	}
	var gd disk.GroupDesc
	if err := gd.Unmarshal(gdt, sb.DescriptorSize()); err != nil {
		t.Fatal(err)
	}
	return int64(gd.BlockBitmap())*bs + 1
}

// writeBaseArtifact packs img as the payload of a .mender at path.
func writeBaseArtifact(t *testing.T, img, path string) {
	t.Helper()
	dir := t.TempDir()
	payload := filepath.Join(dir, generator.PayloadName)
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(payload, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec := &generator.ArtifactSpec{Name: "base", DeviceTypes: []string{"d"}}
	if err := generator.WriteArtifact(context.Background(), f, spec, payload, nil); err != nil {
		t.Fatal(err)
	}
}
