package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
)

// release is an artifact lvm-um-gen made from the base, with what its
// report predicted.
type release struct {
	artifact  string
	predicted int64  // predicted_cow_bytes
	imageSHA  string // sha256 of the new image (what the artifact provides)
	reserve   int64  // reserve_bytes
}

// releases are the artifacts the scenarios install.
type releases struct {
	v2, v2delta release // the next release (releasegen's patch), full and delta
	big         release // v2 plus 4 MiB of new data: more COW + reserve than the device has free
}

// makeReleases writes the release trees and generates their artifacts with
// lvm-um-gen, as a release CI would.
func (w *world) makeReleases(t *testing.T, next *releasegen.Release) releases {
	t.Helper()
	v2Dir := filepath.Join(w.dir, "v2-tree")
	bigDir := filepath.Join(w.dir, "big-tree")
	for _, d := range []string{v2Dir, bigDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := next.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	// Incompressible, so that it costs its size in COW whatever the
	// placement.
	big := make([]byte, 4<<20)
	r := rand.New(rand.NewPCG(9, 9))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(filepath.Join(bigDir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	free := "12MiB" // the device's free space: what the release CI gates on
	return releases{
		v2:      w.generate(t, "v2", v2Dir, "--snapshot-size", free),
		v2delta: w.generate(t, "v2-delta", v2Dir, "--snapshot-size", free, "--delta"),
		// The release CI was told of a bigger snapshot than the device has:
		// the device must refuse it itself.
		big: w.generate(t, "big", bigDir, "--snapshot-size", "64MiB"),
	}
}

// generate runs lvm-um-gen generate against the base and reads its report.
func (w *world) generate(t *testing.T, name, rootfs string, extra ...string) release {
	t.Helper()
	out := filepath.Join(w.dir, name+".mender")
	report := filepath.Join(w.dir, name+".json")
	// Write unit = chunk = 4 KiB: what the new module writes in.
	args := append([]string{"generate", "--base", w.base, "--rootfs", rootfs, "-n", name, "-t", deviceType,
		"-o", out, "--report", report, "--quiet", "--write-unit", "4KiB", "--chunk-size", "4KiB"}, extra...)
	cmd := exec.Command(w.gen, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lvm-um-gen %v: %v\n%s", args, err, b)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Predicted int64  `json:"predicted_cow_bytes"`
		ImageSHA  string `json:"image_sha256"`
		Reserve   int64  `json:"reserve_bytes"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", report, err)
	}
	if rep.Predicted <= 0 || len(rep.ImageSHA) != 64 {
		t.Fatalf("%s: predicted_cow_bytes %d, image_sha256 %q", report, rep.Predicted, rep.ImageSHA)
	}
	t.Logf("release %s: predicted COW %d bytes, reserve %d", name, rep.Predicted, rep.Reserve)
	return release{artifact: out, predicted: rep.Predicted, imageSHA: rep.ImageSHA, reserve: rep.Reserve}
}

// config writes the lvm-um module's configuration for this device (the
// reference names, the e2e's boot switch, the root mounted at /mnt/root)
// plus extra lines, and returns its path.
func (w *world) config(t *testing.T, name, extra string) string {
	t.Helper()
	p := filepath.Join(w.dir, name)
	conf := `# lvm-um on the e2e's emulated device
volume_group  = devicevg
origin        = rootfs1
snapshot      = rootfs2
boot_snapshot = fw_setenv bootcount 0 mender_boot_part 2 upgrade_available 1
boot_origin   = fw_setenv mender_boot_part 1 upgrade_available 0
root_mount    = /mnt/root
` + extra
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
