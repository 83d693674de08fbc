// Package e2e is the real-kernel end-to-end test of the lvm-um update module
// (issue 9): QEMU under TCG boots Debian's kernel with an initramfs built
// here from the host's busybox, lvm2, the Mender client 3.4 and the module,
// on a persistent disk holding the device's volume group, and drives
// `mender install`, `mender commit` and `mender rollback` across real
// reboots. It runs with `make e2e` (LVMUM_E2E=1) and skips otherwise, so
// `make test` stays fast. README "Device e2e" and /work/notes/vm.md say
// what each scenario proves.
package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// The reference device, scaled down so that boots are fast: a 16 MiB root
// volume, an 8 MiB data volume, and 3 free extents of 4 MiB (12 MiB) for
// the snapshot.
const (
	deviceType = "e2e-vm"
	rootSize   = 16 << 20
	dataSize   = 8 << 20
	diskSize   = 40 << 20 // 1 MiB of LVM metadata + 9 extents
	extentSize = 4 << 20
	freeBytes  = diskSize/extentSize*extentSize - extentSize - rootSize - dataSize // 3 extents
)

// world is what every scenario shares: the guest (kernel, initramfs), the
// fixtures and the golden disk (a device fresh from the factory: base image
// on rootfs1, Mender state seeded).
type world struct {
	guest   *guestSetup
	dir     string
	tools   map[string]string
	gen     string // lvm-um-gen
	module  string // the lvm-um module (linux/amd64), "" when not built
	base    string // base image
	baseSHA string
	golden  string // disk image after the setup boot
	rel     releases
}

func TestE2E(t *testing.T) {
	if os.Getenv("LVMUM_E2E") != "1" {
		t.Skip("the real-kernel e2e runs under `make e2e` (LVMUM_E2E=1)")
	}
	start := time.Now()
	w := setupWorld(t)
	t.Run("scenarios", func(t *testing.T) {
		t.Run("cow-formula", func(t *testing.T) { t.Parallel(); testCOWFormula(t, w) })
		t.Run("mender-states", func(t *testing.T) { t.Parallel(); testMenderStates(t, w) })
		t.Run("commit-merge", func(t *testing.T) { t.Parallel(); w.needModule(t); testCommitMerge(t, w) })
		t.Run("delta-rollback", func(t *testing.T) { t.Parallel(); w.needModule(t); testDeltaRollback(t, w) })
		t.Run("drift", func(t *testing.T) { t.Parallel(); w.needModule(t); testDrift(t, w) })
		t.Run("overflow", func(t *testing.T) { t.Parallel(); w.needModule(t); testOverflow(t, w) })
	})
	t.Logf("e2e wall time: %.0f s; %d boots, %.0f s of QEMU CPU time (%.1f s a boot)", time.Since(start).Seconds(),
		w.guest.boots, w.guest.cpuTotal.Seconds(), w.guest.cpuTotal.Seconds()/float64(max(w.guest.boots, 1)))
}

func setupWorld(t *testing.T) *world {
	tools := requireTools(t, "qemu-system-x86_64", "busybox", "lvm", "dmsetup", "mender", "mke2fs",
		"mender-artifact", "mkfs.ext4", "fsck.ext4", "e2fsck")
	k, err := findKernel()
	if err != nil {
		if os.Getenv("LVMUM_REQUIRE_TOOLS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	if keep := os.Getenv("LVMUM_E2E_WORK"); keep != "" {
		// Keep everything (initramfs, disks, consoles) for a look afterwards.
		dir = keep
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{dir: dir, tools: tools, gen: repoFile("LVMUM_E2E_GEN", "bin/lvm-um-gen")}
	if err := exec.Command(w.gen, "version").Run(); err != nil {
		t.Fatalf("%s: %v (make e2e builds it; LVMUM_E2E_GEN names another)", w.gen, err)
	}
	spec := initramfsSpec{kernel: k, deviceType: deviceType, modules: map[string]string{}}
	if mod := repoFile("LVMUM_E2E_MODULE", "bin/lvm-um-linux-amd64"); fileExists(mod) {
		w.module = mod
		// One binary under both payload types (it reads the type from
		// the tree, not from its name).
		spec.modules["lvm-um"] = mod
		spec.modules["lvm-um-delta"] = mod
	}
	w.guest = &guestSetup{kernel: k, qemu: tools["qemu-system-x86_64"], initrd: filepath.Join(dir, "initrd.cpio"),
		boot: uncompressKernel(k.image, dir)}
	if err := buildInitramfs(spec, w.guest.initrd); err != nil {
		t.Fatalf("initramfs: %v", err)
	}
	st, _ := os.Stat(w.guest.initrd)
	t.Logf("kernel %s (booting %s), initramfs %d KiB", k.version, filepath.Base(w.guest.boot), st.Size()>>10)

	// The base: a small release tree, built the way Yocto builds images.
	base, next, err := releasegen.Pair(releasegen.Config{Seed: 7, Scale: 0.02}, "patch")
	if err != nil {
		t.Fatal(err)
	}
	baseDir := filepath.Join(dir, "base-tree")
	if err := os.MkdirAll(baseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := base.Write(baseDir); err != nil {
		t.Fatal(err)
	}
	w.base = filepath.Join(dir, "base.ext4")
	if err := ext4test.BuildImageAt(w.base, baseDir, ext4test.ImageOptions{Size: rootSize}); err != nil {
		t.Fatal(err)
	}
	w.baseSHA = fileSHA(t, w.base)
	w.rel = w.makeReleases(t, next)

	// The factory: volume group, base on rootfs1, Mender state seeded with
	// the provides an lvm-um artifact depends on.
	seed := w.artifact(t, "seed", "-T", "rec-seed", "-n", "factory",
		"-p", "rootfs-image.checksum:"+w.baseSHA, "-p", "rootfs-image.version:factory")
	m := newMachine(t, w, "golden", "", diskSize)
	r := m.boot(bootOpts{
		phase: "setup",
		env: map[string]string{
			"ROOT_SIZE": fmt.Sprintf("%db", rootSize), "DATA_SIZE": fmt.Sprintf("%db", dataSize),
			"DEVICE_TYPE": deviceType,
		},
		files: map[string]string{"base.img": w.base, "seed.mender": seed,
			"lvm-um.conf": w.config(t, "lvm-um.conf", "")},
		rootMount: "none",
	})
	if got := r.get(t, "seed_rc"); got != "0" {
		t.Fatalf("installing the seed artifact: exit %s", got)
	}
	if got := r.get(t, "origin_sha"); got != w.baseSHA {
		t.Fatalf("rootfs1 after setup: sha256 %s, want the base's %s", got, w.baseSHA)
	}
	if got := r.int(t, "vg_free"); got != freeBytes {
		t.Fatalf("volume group free: %d bytes, want %d", got, freeBytes)
	}
	if got := r.get(t, "artifact"); got != "factory" {
		t.Fatalf("artifact after seeding: %q, want factory", got)
	}
	if !contains(r.kv["provides"], "rootfs-image.checksum="+w.baseSHA) {
		t.Fatalf("provides after seeding: %q, want rootfs-image.checksum=%s", r.kv["provides"], w.baseSHA)
	}
	w.golden = m.disk
	return w
}

// artifact writes a module-image artifact with the mender-artifact CLI and
// returns its path.
func (w *world) artifact(t *testing.T, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(w.dir, name+".mender")
	payload := filepath.Join(w.dir, name+".payload")
	if err := os.WriteFile(payload, []byte("payload of "+name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	full := append([]string{"write", "module-image", "-t", deviceType, "-o", out, "-f", payload}, args...)
	if b, err := exec.Command(w.tools["mender-artifact"], full...).CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact %v: %v\n%s", full, err, b)
	}
	return out
}

// needModule skips (or, with LVMUM_REQUIRE_TOOLS=1, fails) a scenario of
// the lvm-um module when it was not built.
func (w *world) needModule(t *testing.T) {
	t.Helper()
	if w.module == "" {
		msg := "the lvm-um module is not built (make module; LVMUM_E2E_MODULE names it)"
		if os.Getenv("LVMUM_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// repoFile is $env, or rel under the repository's top directory.
func repoFile(env, rel string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	top, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return rel
	}
	return filepath.Join(top, rel)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}
