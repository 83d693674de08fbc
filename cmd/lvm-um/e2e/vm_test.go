package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed guest
var guestFiles embed.FS

// guestModules are the kernel modules the guest loads (with what they need):
// the virtio disks and entropy source, device-mapper with dm-snapshot for
// LVM, ext4 for the root and data volumes.
var guestModules = []string{
	"virtio_pci", "virtio_blk", "virtio_rng", "dm_mod", "dm_bufio", "dm_snapshot", "crc32c_generic", "ext4",
}

// lvmCommands are the lvm2 commands the guest calls (symlinks to lvm).
var lvmCommands = []string{
	"lvcreate", "lvremove", "lvconvert", "lvchange", "lvs", "lvdisplay", "lvextend", "lvreduce",
	"vgcreate", "vgchange", "vgs", "vgdisplay", "vgscan", "pvcreate", "pvs", "pvscan",
}

// hostKernel is the kernel the guest boots and its modules.
type hostKernel struct {
	image   string // vmlinuz
	modDir  string // lib/modules/<version>
	version string
}

// findKernel looks for Debian's kernel: $LVMUM_E2E_KERNEL_ROOT, then the
// directory .ci/e2e-deps.sh unpacks linux-image-amd64 into (without running
// its maintainer scripts), then the host's own /boot and /lib/modules.
func findKernel() (hostKernel, error) {
	roots := []string{"/var/cache/lvm-um-e2e/kernel", "/"}
	if r := os.Getenv("LVMUM_E2E_KERNEL_ROOT"); r != "" {
		roots = []string{r}
	}
	for _, root := range roots {
		imgs, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
		sort.Sort(sort.Reverse(sort.StringSlice(imgs)))
		for _, img := range imgs {
			ver := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
			for _, md := range []string{filepath.Join(root, "lib", "modules", ver), filepath.Join(root, "usr", "lib", "modules", ver)} {
				if _, err := os.Stat(filepath.Join(md, "modules.dep")); err == nil {
					return hostKernel{image: img, modDir: md, version: ver}, nil
				}
			}
		}
	}
	return hostKernel{}, fmt.Errorf("no Debian kernel (boot/vmlinuz-* with lib/modules/*/modules.dep) under %v: run .ci/e2e-deps.sh or set LVMUM_E2E_KERNEL_ROOT", roots)
}

// initramfsSpec says what goes into the guest's initramfs beyond the fixed
// tools: the update modules to install under /usr/share/mender/modules/v3.
type initramfsSpec struct {
	kernel     hostKernel
	deviceType string
	modules    map[string]string // module name -> host path of the executable
}

// buildInitramfs writes a newc initramfs to out: busybox
// (static) as init, lvm2 and dmsetup, mke2fs, the Mender client with its
// libraries and config, the guest scripts, the kernel modules in load
// order, and the update modules.
func buildInitramfs(spec initramfsSpec, out string) error {
	a := newCpioArchive()
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "run", "tmp", "ctl", "data", "mnt/root", "etc/mender", "var/lib"} {
		a.mkdirAll(d)
	}
	a.addCharDev("dev/console", 0o600, 5, 1)
	a.addCharDev("dev/null", 0o666, 1, 3)
	if err := a.addBinary("/bin/busybox", "/bin/busybox"); err != nil {
		return err
	}
	a.addSymlink("init", "bin/busybox")
	a.addSymlink("bin/sh", "busybox")
	for _, b := range []struct{ host, guest string }{
		{"/usr/sbin/lvm", "/usr/sbin/lvm"},
		{"/usr/sbin/dmsetup", "/usr/sbin/dmsetup"},
		{"/usr/bin/mender", "/usr/bin/mender"},
		{"/usr/sbin/mke2fs", "/usr/sbin/mke2fs"},
	} {
		host := b.host
		if _, err := os.Stat(host); err != nil {
			host = strings.Replace(host, "/usr/sbin/", "/sbin/", 1)
		}
		if err := a.addBinary(host, b.guest); err != nil {
			return err
		}
	}
	for _, c := range lvmCommands {
		a.addSymlink("usr/sbin/"+c, "lvm")
	}
	a.addSymlink("usr/sbin/mkfs.ext4", "mke2fs")
	if _, err := os.Stat("/etc/mke2fs.conf"); err == nil {
		if err := a.addHostFile("/etc/mke2fs.conf", "/etc/mke2fs.conf"); err != nil {
			return err
		}
	}

	// Guest scripts and configuration.
	for _, f := range []struct {
		src, dst string
		perm     uint32
	}{
		{"guest/inittab", "/etc/inittab", 0o644},
		{"guest/init.sh", "/etc/e2e/init.sh", 0o755},
		{"guest/run.sh", "/etc/e2e/run.sh", 0o755},
		{"guest/shutdown.sh", "/etc/e2e/shutdown.sh", 0o755},
		{"guest/lib.sh", "/etc/e2e/lib.sh", 0o644},
		{"guest/fw_setenv", "/usr/bin/fw_setenv", 0o755},
		{"guest/lvm.conf", "/etc/lvm/lvm.conf", 0o644},
		{"guest/rec", "/usr/share/mender/modules/v3/rec", 0o755},
		{"guest/reboot-after-mender", "/usr/bin/reboot-after-mender", 0o755},
	} {
		data, err := guestFiles.ReadFile(f.src)
		if err != nil {
			return err
		}
		a.addFile(f.dst, f.perm, data)
	}
	a.addSymlink("usr/bin/fw_printenv", "fw_setenv")
	a.addSymlink("usr/share/mender/modules/v3/rec-seed", "rec")

	// Mender: state on the data volume, so it survives reboots.
	a.addSymlink("var/lib/mender", "/data/mender")
	a.addFile("/etc/mender/mender.conf", 0o600, []byte("{}\n"))
	a.addFile("/etc/mender/artifact_info", 0o644, []byte("artifact_name=factory\n"))
	a.addSymlink("etc/mender/lvm-um.conf", "/data/lvm-um.conf")
	for name, host := range spec.modules {
		if err := a.addHostFile(host, "/usr/share/mender/modules/v3/"+name); err != nil {
			return err
		}
	}

	// Kernel modules, and the order to load them in.
	mods, err := kernelModules(spec.kernel.modDir, guestModules)
	if err != nil {
		return err
	}
	for _, m := range mods {
		if !strings.HasSuffix(m, ".ko") {
			return fmt.Errorf("kernel module %s is compressed; busybox insmod needs plain .ko files", m)
		}
		if err := a.addHostFile(filepath.Join(spec.kernel.modDir, m), filepath.Join("/lib/modules", spec.kernel.version, m)); err != nil {
			return err
		}
	}
	a.addFile("/etc/e2e/modules", 0o644, []byte(strings.Join(mods, "\n")+"\n"))

	// Uncompressed: the guest unpacks it by copying, faster under TCG
	// than inflating it.
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := a.writeTo(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// guestSetup is what every machine shares: the kernel, the initramfs.
type guestSetup struct {
	kernel hostKernel
	boot   string // what QEMU's -kernel loads: the uncompressed vmlinux, else the bzImage
	initrd string
	qemu   string

	mu       sync.Mutex
	boots    int
	cpuTotal time.Duration // all boots' QEMU CPU time
}

func (g *guestSetup) addCPU(d time.Duration) {
	g.mu.Lock()
	g.boots++
	g.cpuTotal += d
	g.mu.Unlock()
}

// kernelCmdline: serial console, power off on panic, no crypto self-tests
// and no speculation mitigations (seconds of boot under TCG, nothing the
// test depends on), and no_timer_check: on a loaded host the emulated CPU
// is too slow for the IO-APIC timer check, and the kernel panics with
// "IO-APIC + timer doesn't work" (seen here).
const kernelCmdline = "console=ttyS0 panic=-1 loglevel=4 quiet cryptomgr.notests mitigations=off no_timer_check"

// uncompressKernel extracts the ELF vmlinux from a bzImage whose payload is
// xz-compressed (Debian's), so that QEMU boots it through its PVH entry and
// the guest skips decompressing itself: about a quarter of a boot under
// TCG. It returns the bzImage itself when that is not possible.
func uncompressKernel(bzImage, dir string) string {
	data, err := os.ReadFile(bzImage)
	if err != nil {
		return bzImage
	}
	i := bytes.Index(data, []byte("\xfd7zXZ\x00"))
	xz, err := exec.LookPath("xz")
	if i < 0 || err != nil {
		return bzImage
	}
	out := filepath.Join(dir, "vmlinux")
	cmd := exec.Command(xz, "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(data[i:])
	elfData, err := cmd.Output()
	if err != nil || !bytes.HasPrefix(elfData, []byte("\x7fELF")) {
		return bzImage
	}
	if err := os.WriteFile(out, elfData, 0o644); err != nil {
		return bzImage
	}
	return out
}

// machine is one emulated device: a persistent state disk that outlives
// each boot. Every boot is a fresh QEMU process (TCG) on the same disk, so a
// reboot is a real one: the kernel starts again and activates the volume
// group from what is on disk.
type machine struct {
	t     *testing.T
	g     *guestSetup
	name  string
	dir   string
	disk  string
	boots int
}

// bootOpts is what one boot runs.
type bootOpts struct {
	phase     string            // the script under guest/phases/ to run, or a label for script
	script    string            // the phase as inline shell (sourcing /etc/e2e/lib.sh first)
	env       map[string]string // written to /ctl/env, sourced by lib.sh
	files     map[string]string // /ctl/<name> <- host path
	rootMount string            // mount options of the root volume ("ro,noload" if empty; "none": not mounted)
	timeout   time.Duration
	// mayReboot: the phase may end by a reboot (asked for by the module
	// or the client) instead of reaching its end; wantReboot: it must.
	mayReboot, wantReboot bool
}

// bootResult is what a boot printed: every "@@E2E key value..." line, the
// whole console, and the phase's exit code (-1 when it did not finish).
type bootResult struct {
	cpu     time.Duration // QEMU's user + system time
	console string
	kv      map[string][]string
	rc      int
	done    bool
}

// get returns the last value printed for key, failing the test if none.
func (r *bootResult) get(t *testing.T, key string) string {
	t.Helper()
	v := r.kv[key]
	if len(v) == 0 {
		t.Fatalf("the guest printed no %q; console tail:\n%s", key, tail(r.console, 60))
	}
	return v[len(v)-1]
}

func (r *bootResult) int(t *testing.T, key string) int64 {
	t.Helper()
	s := r.get(t, key)
	n, err := strconv.ParseInt(strings.Fields(s)[0], 10, 64)
	if err != nil {
		t.Fatalf("%s = %q: not a number", key, s)
	}
	return n
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// newMachine makes a machine whose disk is a copy of from (a fresh, sparse
// disk of size bytes when from is "").
func newMachine(t *testing.T, w *world, name, from string, size int64) *machine {
	t.Helper()
	dir := filepath.Join(w.dir, "m-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := &machine{t: t, g: w.guest, name: name, dir: dir, disk: filepath.Join(dir, "disk.img")}
	if from == "" {
		f, err := os.Create(m.disk)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	} else if err := copyFile(from, m.disk); err != nil {
		t.Fatal(err)
	}
	return m
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// boot runs one boot of the machine and returns what it printed. It fails
// the test when QEMU cannot start, the boot times out, the guest reports a
// fatal error, or the phase does not finish with exit 0 (unless mayReboot
// and it ended by a reboot).
func (m *machine) boot(o bootOpts) *bootResult {
	t := m.t
	t.Helper()
	m.boots++
	label := fmt.Sprintf("%s boot %d (%s)", m.name, m.boots, o.phase)
	ctl := filepath.Join(m.dir, fmt.Sprintf("ctl-%d.tar", m.boots))
	if err := writeControlDisk(ctl, o); err != nil {
		t.Fatalf("%s: control disk: %v", label, err)
	}
	timeout := o.timeout
	if timeout == 0 {
		timeout = 6 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-machine", "pc,accel=tcg", "-m", "768", "-smp", "1",
		"-kernel", m.g.boot, "-initrd", m.g.initrd,
		"-append", kernelCmdline,
		"-serial", "stdio", "-monitor", "none",
		"-drive", "file=" + m.disk + ",if=virtio,format=raw,cache=unsafe",
		"-drive", "file=" + ctl + ",if=virtio,format=raw,readonly=on",
		"-device", "virtio-rng-pci",
	}
	cmd := exec.CommandContext(ctx, m.g.qemu, args...)
	cmd.Stdin = nil
	logPath := filepath.Join(m.dir, fmt.Sprintf("console-%d.log", m.boots))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	var console bytes.Buffer
	var mu sync.Mutex
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	res := &bootResult{kv: map[string][]string{}, rc: -1}
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			mu.Lock()
			console.WriteString(line + "\n")
			mu.Unlock()
			fmt.Fprintln(logf, line)
			if i := strings.Index(line, "@@E2E-DONE "); i >= 0 {
				res.rc, _ = strconv.Atoi(strings.TrimSpace(line[i+len("@@E2E-DONE "):]))
				res.done = true
			} else if i := strings.Index(line, "@@E2E "); i >= 0 {
				k, v, _ := strings.Cut(line[i+len("@@E2E "):], " ")
				res.kv[k] = append(res.kv[k], v)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	start := time.Now()
	err = cmd.Run()
	pw.Close()
	<-scanDone
	res.console = console.String()
	// QEMU's CPU time is what the boot costs on an idle core (TCG keeps
	// one busy); wall time is that plus whatever else the machine runs.
	if ps := cmd.ProcessState; ps != nil {
		res.cpu = ps.UserTime() + ps.SystemTime()
	}
	t.Logf("%s: %.1f s wall, %.1f s CPU", label, time.Since(start).Seconds(), res.cpu.Seconds())
	m.g.addCPU(res.cpu)
	if os.Getenv("LVMUM_E2E_VERBOSE") == "1" {
		t.Logf("%s: console:\n%s", label, res.console)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out after %s (console in %s); tail:\n%s", label, timeout, logPath, tail(res.console, 40))
	}
	if err != nil {
		t.Fatalf("%s: qemu: %v; tail:\n%s", label, err, tail(res.console, 40))
	}
	if strings.Contains(res.console, "@@E2E-FATAL") {
		t.Fatalf("%s: the guest failed to boot; tail:\n%s", label, tail(res.console, 40))
	}
	if res.done && o.wantReboot {
		t.Fatalf("%s: the phase ended, but the machine was to reboot by itself first; tail:\n%s", label, tail(res.console, 40))
	}
	if !res.done && !o.mayReboot && !o.wantReboot {
		t.Fatalf("%s: the phase did not finish (the machine went down first); tail:\n%s", label, tail(res.console, 40))
	}
	if res.done && res.rc != 0 {
		t.Fatalf("%s: the phase exited %d; tail:\n%s", label, res.rc, tail(res.console, 60))
	}
	return res
}

// writeControlDisk writes the tar the guest unpacks into /ctl: the phase
// script as phase.sh, the env file and the listed files.
func writeControlDisk(path string, o bootOpts) error {
	phase := []byte(". /etc/e2e/lib.sh\n" + o.script)
	if o.script == "" {
		var err error
		if phase, err = guestFiles.ReadFile("guest/phases/" + o.phase + ".sh"); err != nil {
			return fmt.Errorf("no phase %q: %w", o.phase, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("phase.sh", 0o755, phase); err != nil {
		return err
	}
	var env strings.Builder
	keys := make([]string, 0, len(o.env))
	for k := range o.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&env, "%s='%s'\n", k, strings.ReplaceAll(o.env[k], "'", `'\''`))
	}
	if err := add("env", 0o644, []byte(env.String())); err != nil {
		return err
	}
	if o.rootMount != "" {
		if err := add("rootmount", 0o644, []byte(o.rootMount+"\n")); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(o.files))
	for n := range o.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src, err := os.Open(o.files[n])
		if err != nil {
			return err
		}
		st, err := src.Stat()
		if err != nil {
			src.Close()
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
			src.Close()
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return nil
}

// requireTools fails (LVMUM_REQUIRE_TOOLS=1, as in CI) or skips when a host
// program the e2e needs is missing.
func requireTools(t *testing.T, names ...string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	var missing []string
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			for _, d := range []string{"/usr/sbin", "/sbin"} {
				if _, err := os.Stat(filepath.Join(d, n)); err == nil {
					p = filepath.Join(d, n)
				}
			}
		}
		if p == "" {
			missing = append(missing, n)
			continue
		}
		paths[n] = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("e2e needs %v (Debian: qemu-system-x86 lvm2 busybox-static mender-client mender-artifact e2fsprogs; .ci/e2e-deps.sh installs them)", missing)
		if os.Getenv("LVMUM_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return paths
}
