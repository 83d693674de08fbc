package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// The lvm-um module on the emulated device (issue 9's scenarios). Each
// scenario starts from the golden disk: base on rootfs1, nothing else.

// testCommitMerge: a release that does not fit is refused in Download with
// no snapshot; a release that fits installs on an untouched rootfs with
// the module's pre-flight figure, the generator's predicted_cow_bytes and
// the kernel's dmsetup status all equal; after a real reboot into the
// snapshot, `mender commit` schedules the merge and (after_commit) a
// reboot once the client has recorded the commit; that reboot's activation
// merges it: the origin then holds the new image.
func testCommitMerge(t *testing.T, w *world) {
	m := newMachine(t, w, "commit", w.golden, 0)
	v2 := w.rel.v2
	r := m.boot(bootOpts{phase: "install", files: map[string]string{"big.mender": w.rel.big.artifact, "v2.mender": v2.artifact}, script: `
mender_run big install /ctl/big.mender
snap_report big
say big_free "$(vgs --noheadings --nosuffix --units b -o vg_free devicevg | tr -d ' ')"
say big_origin_sha "$(lvsha rootfs1)"
mender_run v2 install /ctl/v2.mender
snap_report v2
report_state
`})
	expectRefused(t, r, "big", "does not fit: needs")
	if got := r.int(t, "big_free"); got != freeBytes {
		t.Errorf("free space after the refusal: %d, want all %d", got, freeBytes)
	}
	if got := r.get(t, "big_origin_sha"); got != w.baseSHA {
		t.Errorf("origin after the refusal: %s, want the base %s", got, w.baseSHA)
	}
	expectRC(t, r, "v2", 0)
	pre := preflight(t, r, "v2")
	kernel := snapshotBytes(t, r, "v2")
	t.Logf("untouched: module %d, generator %d, kernel %d", pre["cow"], v2.predicted, kernel)
	if pre["cow"] != v2.predicted || kernel != v2.predicted || pre["drift_cow"] != 0 {
		t.Errorf("untouched rootfs: module's pre-flight COW %d (drift %d), generator's predicted_cow_bytes %d, kernel's %d: want one number",
			pre["cow"], pre["drift_cow"], v2.predicted, kernel)
	}
	expectCOWLine(t, r, "v2", "Download", kernel)
	if got := r.get(t, "artifact"); got != "factory" {
		t.Errorf("artifact before the commit: %q, want factory", got)
	}
	if got := r.get(t, "boot_part"); got != "2" {
		t.Errorf("boot target after install: mender_boot_part %q, want 2", got)
	}

	// The commit asks for the reboot itself (after_commit), once the
	// client has recorded it; what the phase prints after the client
	// returns may be cut short, so the next boot prints the client's
	// output again.
	r = m.boot(bootOpts{phase: "commit", wantReboot: true, files: map[string]string{
		"reboot.conf": w.config(t, "reboot.conf", "after_commit = reboot-after-mender\n"),
	}, script: `
use_config reboot.conf
snap_report pre
mender_run commit commit
sleep 600
`})
	expectBootedFrom(t, r, "rootfs2")
	if got := snapshotBytes(t, r, "pre"); got != kernel {
		t.Errorf("COW after the reboot into the snapshot (root read-only): %d, want %d", got, kernel)
	}

	r = m.boot(bootOpts{phase: "merged", script: `
report_run commit
say after_commit_reboot_seen "$(cat /data/e2e/after_commit_reboot)"
say origin_sha "$(lvsha rootfs1)"
i=0
while lvs devicevg/rootfs2 > /dev/null 2>&1 && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
say merge_wait "$i"
snap_report end
say origin_sha_end "$(lvsha rootfs1)"
report_state
`})
	expectBootedFrom(t, r, "rootfs1")
	expectRC(t, r, "commit", 0)
	expectCOWLine(t, r, "commit", "ArtifactCommit", kernel)
	t.Logf("after_commit rebooted the machine (%s)", r.get(t, "after_commit_reboot_seen"))
	// lvs hides a merging snapshot; its origin's attr says O.
	if lvs := r.get(t, "preactivation_lvs"); !strings.Contains(lvs, "rootfs1 O") {
		t.Errorf("before this boot's activation LVM showed %q, want the merge pending (rootfs1 O...)", lvs)
	}
	if got := r.get(t, "origin_sha"); got != v2.imageSHA {
		t.Errorf("origin at the first boot after commit: %s, want the new image %s", got, v2.imageSHA)
	}
	if got := r.get(t, "end_status"); got != "none" {
		t.Errorf("snapshot after the merge: %q, want none (waited %s s)", got, r.get(t, "merge_wait"))
	}
	if got := r.get(t, "origin_sha_end"); got != v2.imageSHA {
		t.Errorf("origin after the merge: %s, want the new image %s", got, v2.imageSHA)
	}
	if got := r.get(t, "artifact"); got != "v2" {
		t.Errorf("artifact after the reboot: %q, want v2 (the client records the commit before after_commit's reboot)", got)
	}
	if !contains(r.kv["provides"], "rootfs-image.checksum="+v2.imageSHA) {
		t.Errorf("provides after commit: %q, want rootfs-image.checksum=%s", r.kv["provides"], v2.imageSHA)
	}
	if got := r.get(t, "boot_part"); got != "1" {
		t.Errorf("boot target after commit: mender_boot_part %q, want 1", got)
	}
}

// testDeltaRollback: a delta artifact (lvm-um-delta) installs on an
// untouched rootfs at the predicted cost; after a real reboot into it,
// `mender rollback` and a reboot leave the origin equal to the base; the
// next install gets rid of the left-over snapshot.
func testDeltaRollback(t *testing.T, w *world) {
	m := newMachine(t, w, "delta", w.golden, 0)
	d := w.rel.v2delta
	r := m.boot(bootOpts{phase: "install", files: map[string]string{"delta.mender": d.artifact}, script: `
mender_run delta install /ctl/delta.mender
snap_report delta
report_state
`})
	expectRC(t, r, "delta", 0)
	pre := preflight(t, r, "delta")
	kernel := snapshotBytes(t, r, "delta")
	if pre["cow"] != d.predicted || kernel != d.predicted {
		t.Errorf("delta on an untouched rootfs: module's pre-flight COW %d, generator's %d, kernel's %d: want one number",
			pre["cow"], d.predicted, kernel)
	}
	expectCOWLine(t, r, "delta", "Download", kernel)

	r = m.boot(bootOpts{phase: "rollback", script: `
mender_run rollback rollback
snap_report rb
report_state
`})
	expectBootedFrom(t, r, "rootfs2")
	expectRC(t, r, "rollback", 0)
	if got := r.get(t, "boot_part"); got != "1" {
		t.Errorf("boot target after rollback: mender_boot_part %q, want 1", got)
	}
	if got := r.get(t, "artifact"); got != "factory" {
		t.Errorf("artifact after rollback: %q, want factory", got)
	}

	r = m.boot(bootOpts{phase: "after-rollback", files: map[string]string{"v2.mender": w.rel.v2.artifact}, script: `
say origin_sha "$(lvsha rootfs1)"
snap_report left
mender_run again install /ctl/v2.mender
snap_report again
mender_run rb rollback
snap_report end
say origin_sha_end "$(lvsha rootfs1)"
`})
	expectBootedFrom(t, r, "rootfs1")
	if got := r.get(t, "origin_sha"); got != w.baseSHA {
		t.Errorf("origin after rollback and reboot: %s, want the base %s", got, w.baseSHA)
	}
	t.Logf("after the rollback's reboot LVM shows %q", r.get(t, "left_lvs"))
	expectRC(t, r, "again", 0)
	expectRC(t, r, "rb", 0)
	if got := r.get(t, "end_status"); got != "none" {
		t.Errorf("snapshot after install + rollback without reboot: %q, want none", got)
	}
	if got := r.get(t, "origin_sha_end"); got != w.baseSHA {
		t.Errorf("origin at the end: %s, want the base %s", got, w.baseSHA)
	}
}

// testDrift: the rootfs mounted rw and written differs from the base; the
// delta is refused in Download (nothing created); the full artifact
// installs and the module's pre-flight figure, drift included, is the
// kernel's; rollback leaves the origin as it was.
func testDrift(t *testing.T, w *world) {
	m := newMachine(t, w, "drift", w.golden, 0)
	r := m.boot(bootOpts{phase: "drift", rootMount: "rw", files: map[string]string{
		"delta.mender": w.rel.v2delta.artifact, "v2.mender": w.rel.v2.artifact,
	}, script: `
find /mnt/root -type f | head -300 | while read -r f; do cat "$f" > /dev/null; done
echo "written on the device" > /mnt/root/drift.txt
dd if=/dev/urandom of=/mnt/root/drift.bin bs=4k count=32 2> /dev/null
sync
mount -o remount,ro /mnt/root
say drifted_sha "$(lvsha rootfs1)"
mender_run delta install /ctl/delta.mender
snap_report delta
mender_run full install /ctl/v2.mender
snap_report full
mender_run rb rollback
snap_report end
say origin_sha "$(lvsha rootfs1)"
`})
	drifted := r.get(t, "drifted_sha")
	if drifted == w.baseSHA {
		t.Fatal("the rootfs did not drift from the base")
	}
	expectRefused(t, r, "delta", "delta refused")
	expectRC(t, r, "full", 0)
	pre := preflight(t, r, "full")
	kernel := snapshotBytes(t, r, "full")
	t.Logf("drifted: module %d (drift %d in %d chunks), generator %d, kernel %d",
		pre["cow"], pre["drift_cow"], pre["drift_chunks"], w.rel.v2.predicted, kernel)
	if pre["drift_cow"] <= 0 || pre["cow"] <= w.rel.v2.predicted {
		t.Errorf("drifted rootfs: pre-flight COW %d with drift %d, generator %d: the drift is not counted",
			pre["cow"], pre["drift_cow"], w.rel.v2.predicted)
	}
	if pre["cow"] != kernel {
		t.Errorf("drifted rootfs: module's pre-flight COW %d, kernel's %d: want one number", pre["cow"], kernel)
	}
	expectCOWLine(t, r, "full", "Download", kernel)
	expectRC(t, r, "rb", 0)
	if got := r.get(t, "end_status"); got != "none" {
		t.Errorf("snapshot after rollback: %q, want none", got)
	}
	if got := r.get(t, "origin_sha"); got != drifted {
		t.Errorf("origin after rollback: %s, want it as before the install (%s)", got, drifted)
	}
}

// testOverflow: a payload that overflows a snapshot made too small on
// purpose (snapshot_size_force) is caught in Download and nothing is left;
// a release installed with no reserve, whose snapshot the running update
// then overflows, is refused at commit and rolled back, never merged.
func testOverflow(t *testing.T, w *world) {
	m := newMachine(t, w, "overflow", w.golden, 0)
	r := m.boot(bootOpts{phase: "install", files: map[string]string{
		"big.mender": w.rel.big.artifact, "v2.mender": w.rel.v2.artifact,
		"force.conf": w.config(t, "force.conf", "reserve = 0\nsnapshot_size = 4MiB\nsnapshot_size_force = yes\n"),
		"tight.conf": w.config(t, "tight.conf", "reserve = 0\n"),
	}, script: `
use_config force.conf
mender_run big install /ctl/big.mender
snap_report big
say big_origin_sha "$(lvsha rootfs1)"
use_config tight.conf
mender_run v2 install /ctl/v2.mender
snap_report v2
report_state
`})
	expectRefused(t, r, "big", "overflowed while the update was written")
	if got := r.get(t, "big_origin_sha"); got != w.baseSHA {
		t.Errorf("origin after the overflowing Download: %s, want the base %s", got, w.baseSHA)
	}
	expectRC(t, r, "v2", 0)
	if _, total := snapshotStatus(t, r, "v2"); total != extentSize/512 {
		t.Errorf("snapshot with no reserve: %d sectors, want one extent (%d)", total, extentSize/512)
	}

	r = m.boot(bootOpts{phase: "overflow", rootMount: "rw", script: `
dd if=/dev/urandom of=/mnt/root/fill.bin bs=1M count=6 2> /dev/null || true
sync || true
snap_report filled
mender_run commit commit
snap_report after
report_state
`})
	expectBootedFrom(t, r, "rootfs2")
	if got := r.get(t, "filled_status"); !strings.Contains(got, "Invalid") {
		t.Fatalf("the running update did not overflow its snapshot: %q", got)
	}
	if got := r.get(t, "commit_rc"); got == "0" {
		t.Error("mender commit of an overflowed snapshot exited 0")
	}
	if lvs := r.get(t, "after_lvs"); strings.Contains(lvs, "rootfs1 O") || !strings.Contains(lvs, "rootfs2 swi-I") {
		t.Errorf("after the failed commit LVM shows %q, want rootfs2 invalid and not merging", lvs)
	}
	if got := r.get(t, "boot_part"); got != "1" {
		t.Errorf("boot target after the failed commit: mender_boot_part %q, want 1", got)
	}
	if got := r.get(t, "artifact"); got != "factory" {
		t.Errorf("artifact after the failed commit: %q, want factory", got)
	}

	r = m.boot(bootOpts{phase: "after-overflow", files: map[string]string{
		"v2.mender": w.rel.v2.artifact, "lvm-um.conf": w.config(t, "lvm-um.conf", ""),
	}, script: `
say origin_sha "$(lvsha rootfs1)"
snap_report left
use_config lvm-um.conf
mender_run again install /ctl/v2.mender
snap_report again
mender_run rb rollback
snap_report end
`})
	expectBootedFrom(t, r, "rootfs1")
	if got := r.get(t, "origin_sha"); got != w.baseSHA {
		t.Errorf("origin after the overflow's rollback: %s, want the base %s (never merged)", got, w.baseSHA)
	}
	t.Logf("after the rollback's reboot LVM shows %q", r.get(t, "left_lvs"))
	expectRC(t, r, "again", 0)
	expectRC(t, r, "rb", 0)
}

// expectRC checks the exit code the phase reported for a client step.
func expectRC(t *testing.T, r *bootResult, step string, want int) {
	t.Helper()
	if got := r.get(t, step+"_rc"); got != strconv.Itoa(want) {
		t.Fatalf("%s: mender exited %s, want %d; module said:\n%s", step, got, want, strings.Join(r.kv[step+"_mod"], "\n"))
	}
}

// expectRefused checks that a `mender install` step failed in Download
// with the module naming why, and that no snapshot exists afterwards.
func expectRefused(t *testing.T, r *bootResult, step, why string) {
	t.Helper()
	if got := r.get(t, step+"_rc"); got == "0" {
		t.Errorf("%s: mender install exited 0, want a refusal", step)
	}
	found := false
	for _, l := range r.kv[step+"_mod"] {
		if strings.Contains(l, why) {
			found = true
			t.Logf("%s refused: %s", step, l)
		}
	}
	if !found {
		t.Errorf("%s: no module line says %q; module said:\n%s", step, why, strings.Join(r.kv[step+"_mod"], "\n"))
	}
	if got := r.get(t, step+"_status"); got != "none" {
		t.Errorf("%s: a snapshot exists after the refusal: %q", step, got)
	}
}

// expectBootedFrom checks which root volume the boot mounted.
func expectBootedFrom(t *testing.T, r *bootResult, lv string) {
	t.Helper()
	if got := r.get(t, "boot"); !strings.HasPrefix(got, "root="+lv+" ") {
		t.Fatalf("booted %q, want %s", got, lv)
	}
}

// preflight parses the module's "preflight: k=v ..." line of a step.
func preflight(t *testing.T, r *bootResult, step string) map[string]int64 {
	t.Helper()
	line := modLine(t, r, step, "preflight: ")
	out := map[string]int64{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: preflight %s=%q: not a number", step, k, v)
		}
		out[k] = n
	}
	for _, k := range []string{"cow", "drift_cow", "need", "available"} {
		if _, ok := out[k]; !ok {
			t.Fatalf("%s: the preflight line has no %s: %q", step, k, line)
		}
	}
	return out
}

// expectCOWLine checks the module's "cow: state=S predicted=P actual=A"
// line: both equal to the kernel's figure.
func expectCOWLine(t *testing.T, r *bootResult, step, state string, kernel int64) {
	t.Helper()
	for _, l := range r.kv[step+"_mod"] {
		if !strings.HasPrefix(l, "cow: state="+state+" ") {
			continue
		}
		want := " predicted=" + strconv.FormatInt(kernel, 10) + " actual=" + strconv.FormatInt(kernel, 10) + " "
		if !strings.Contains(l+" ", want) {
			t.Errorf("%s: module logged %q, want predicted = actual = %d", step, l, kernel)
		}
		return
	}
	t.Errorf("%s: the module logged no cow line for %s; it said:\n%s", step, state, strings.Join(r.kv[step+"_mod"], "\n"))
}

// modLine returns the last line of the module's log in a step that starts
// with prefix, without the prefix.
func modLine(t *testing.T, r *bootResult, step, prefix string) string {
	t.Helper()
	lines := r.kv[step+"_mod"]
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], prefix) {
			return strings.TrimPrefix(lines[i], prefix)
		}
	}
	t.Fatalf("%s: no module line %q; it said:\n%s", step, prefix, strings.Join(lines, "\n"))
	return ""
}

// snapshotStatus is the snapshot's dmsetup status a step printed
// (sectors allocated, total sectors of the store).
func snapshotStatus(t *testing.T, r *bootResult, step string) (alloc, total int64) {
	t.Helper()
	alloc, total, _ = parseSnapshotStatus(t, r.get(t, step+"_status"))
	return alloc, total
}

// snapshotBytes is the kernel's COW figure: sectors allocated * 512.
func snapshotBytes(t *testing.T, r *bootResult, step string) int64 {
	t.Helper()
	alloc, _ := snapshotStatus(t, r, step)
	return alloc * 512
}
