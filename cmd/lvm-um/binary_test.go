package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// moduleBinary builds the module as `make module` does (static, pure Go)
// once per test run.
func moduleBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lvm-um-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "lvm-um")
		cmd := exec.Command("go", "build", "-tags", "nopkcs11", "-trimpath", "-ldflags", "-s -w", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building the module: %v", buildErr)
	}
	return binPath
}

func runModule(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(moduleBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// TestBinaryIsStaticAndSmall: the module must drop into any image.
func TestBinaryIsStaticAndSmall(t *testing.T) {
	f, err := elf.Open(moduleBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the module is dynamically linked (%v)", p.Type)
		}
	}
	st, err := os.Stat(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 4<<20 {
		t.Errorf("the module is %d bytes: it links more than it needs", st.Size())
	}
	t.Logf("module: %d bytes", st.Size())
}

// TestBinaryProtocol runs the real binary as the client does.
func TestBinaryProtocol(t *testing.T) {
	noConfig := []string{"LVM_UM_CONFIG=" + filepath.Join(t.TempDir(), "absent.conf")}
	if code, out, errs := runModule(t, noConfig, "SupportsRollback", t.TempDir()); code != 0 || out != "Yes\n" || errs != "" {
		t.Errorf("SupportsRollback: %d %q %q", code, out, errs)
	}
	if code, out, errs := runModule(t, noConfig, "NeedsArtifactReboot", t.TempDir()); code != 0 || out != "Automatic\n" || errs != "" {
		t.Errorf("NeedsArtifactReboot: %d %q %q", code, out, errs)
	}
	if code, out, errs := runModule(t, noConfig, "SomethingNew", t.TempDir()); code != 0 || out != "" || errs != "" {
		t.Errorf("unknown state: %d %q %q", code, out, errs)
	}
	code, out, errs := runModule(t, noConfig, "Download", t.TempDir())
	if code != exitInput || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "lvm-um: Download failed: config ") {
		t.Errorf("Download without config: %d %q %q", code, out, errs)
	}
}

// TestBinaryRefusesWrongRoot runs a real Download with the fake LVM: the
// configured origin is not the volume the running rootfs is on (the real
// MountDev of the test's directory), so it is refused before anything
// changes.
func TestBinaryRefusesWrongRoot(t *testing.T) {
	base := image(40, imgSize)
	d := newDevice(t, base, deviceOpts{config: "root_mount = " + t.TempDir() + "\n"})
	rel := makeRelease(t, base, change(base, chunk, 3), releaseOpts{})
	tree := newTree(t, rel.headers)
	code, _, errs := runModule(t, []string{"LVM_UM_CONFIG=" + d.cfgPath}, "Download", tree)
	if code != exitInput || !strings.Contains(errs, "origin volume devicevg/rootfs1 (device 253:0) is not the running rootfs") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if calls := d.calls(); ran(calls, "lvm lvcreate") || !ran(calls, "lvm lvs") {
		t.Errorf("calls: %q", calls)
	}
}
