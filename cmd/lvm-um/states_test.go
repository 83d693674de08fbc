package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	imgSize = 2<<20 + 3*4096 // not a whole number of extents
	chunk   = 4096
)

// predictedCOWLine extracts the figures of the cow: line a state logged.
var cowLine = regexp.MustCompile(`lvm-um: cow: state=(\w+) predicted=(\d+) actual=(\w+) snapshot=(\d+)`)

func cowFigures(t *testing.T, stderr string) (predicted, actual int64) {
	t.Helper()
	m := cowLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no cow: line in\n%s", stderr)
	}
	predicted, _ = strconv.ParseInt(m[2], 10, 64)
	actual, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil {
		return predicted, -1
	}
	return predicted, actual
}

func TestQueries(t *testing.T) {
	d := newDevice(t, image(1, 8192), deviceOpts{noConfig: true})
	for state, want := range map[string]string{
		"SupportsRollback": "Yes\n", "NeedsArtifactReboot": "Automatic\n", "ProvidePayloadFileSizes": "Yes\n",
		"SomeFutureQuery": "", "ArtifactReboot": "", "ArtifactRollbackReboot": "",
	} {
		r := d.runState(state, t.TempDir())
		if state == "ArtifactReboot" || state == "ArtifactRollbackReboot" {
			// Known states: they need the config, which is missing.
			if r.code != exitInput || r.stdout != "" {
				t.Errorf("%s without config: exit %d, stdout %q", state, r.code, r.stdout)
			}
			continue
		}
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", state, r.code, r.stdout, r.stderr, want)
		}
	}
	if calls := d.calls(); len(calls) != 1 || calls[0] != "" {
		t.Errorf("queries ran commands: %q", calls)
	}
	// With a config: the reboot states (never called, the module answers
	// Automatic) succeed and do nothing.
	if err := os.WriteFile(d.cfgPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"ArtifactReboot", "ArtifactRollbackReboot"} {
		if r := d.runState(state, t.TempDir()); r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", state, r.code, r.stdout, r.stderr)
		}
	}
	if calls := d.calls(); len(calls) != 1 || calls[0] != "" {
		t.Errorf("reboot states ran commands: %q", calls)
	}
}

// TestFullUpdateCommitMerge runs a full-image update through every state
// of a successful update as the daemon sequences them: Download,
// ArtifactInstall, (reboot), ArtifactVerifyReboot, ArtifactCommit,
// Cleanup, (reboot: the merge), and checks the volumes, the boot
// environment and the commands at each step.
func TestFullUpdateCommitMerge(t *testing.T) {
	base := image(2, imgSize)
	img := change(base, chunk, 0, 1, 2, 100, 513)
	d := newDevice(t, base, deviceOpts{lvSize: 3 << 20})
	baseSum := d.originSum(len(base))
	rel := makeRelease(t, base, img, releaseOpts{})
	tree := newTree(t, rel.headers)

	r := d.download(tree, false, rel.payload)
	if r.code != 0 || r.clientErr != nil {
		t.Fatalf("Download: exit %d, client %v", r.code, r.clientErr)
	}
	wantCOW := int64((2 + 5) * chunk)
	mustContain(t, "Download log", r.stderr,
		fmt.Sprintf("lvm-um: preflight: cow=%d drift_cow=0 reserve=%d need=%d available=%d chunks=5 drift_chunks=0 release_cow=%d",
			wantCOW, 8<<20, wantCOW+8<<20, 64<<20, wantCOW),
		fmt.Sprintf("lvm-um: written: units=5 of %d (4096 bytes each) chunks=5 cow=%d predicted=%d", imgSize/chunk, wantCOW, wantCOW),
		"lvm-um: verified: sha256 ")
	if p, a := cowFigures(t, r.stderr); p != wantCOW || a != wantCOW {
		t.Errorf("Download: predicted %d, actual %d, want both %d", p, a, wantCOW)
	}
	calls := d.calls()
	if !slices.Contains(calls, "lvm lvcreate --snapshot --extents 9 --chunksize 4k --name rootfs2 --addtag lvm_um --addtag lvm_um_cow_28672 devicevg/rootfs1") {
		t.Errorf("lvcreate not as expected: %q", calls)
	}
	if d.originSum(len(base)) != baseSum {
		t.Fatal("Download changed the origin")
	}
	if got := d.volume("rootfs2"); !bytes.Equal(got[:len(img)], img) || !bytes.Equal(got[len(img):], make([]byte, 3<<20-len(img))) {
		t.Fatal("the snapshot does not hold the new image followed by the origin's tail")
	}

	if r := d.runState("ArtifactInstall", tree); r.code != 0 {
		t.Fatalf("ArtifactInstall: exit %d", r.code)
	}
	if boot := d.state().Boot; boot["mender_boot_part"] != "2" || boot["upgrade_available"] != "1" || boot["bootcount"] != "0" {
		t.Errorf("boot env after install: %v", boot)
	}
	d.bootInto("rootfs2")
	r = d.runState("ArtifactVerifyReboot", tree)
	if r.code != 0 {
		t.Fatalf("ArtifactVerifyReboot: exit %d", r.code)
	}
	if p, a := cowFigures(t, r.stderr); p != wantCOW || a != wantCOW {
		t.Errorf("ArtifactVerifyReboot: predicted %d actual %d", p, a)
	}
	d.calls()
	r = d.runState("ArtifactCommit", tree)
	if r.code != 0 {
		t.Fatalf("ArtifactCommit: exit %d", r.code)
	}
	if p, _ := cowFigures(t, r.stderr); p != wantCOW {
		t.Errorf("ArtifactCommit: predicted %d", p)
	}
	mustContain(t, "commit log", r.stderr, "will occur on next activation")
	calls = d.calls()
	setenv := slices.Index(calls, "fw_setenv mender_boot_part 1 upgrade_available 0")
	merge := slices.Index(calls, "lvm lvconvert --merge devicevg/rootfs2")
	if setenv < 0 || merge < 0 || setenv > merge {
		t.Errorf("commit must switch the boot target, then merge: %q", calls)
	}
	if ran(calls, "reboot") || ran(calls, "shutdown") {
		t.Errorf("commit rebooted: %q", calls)
	}
	if r := d.runState("Cleanup", tree); r.code != 0 {
		t.Fatalf("Cleanup: exit %d", r.code)
	}
	if ran(d.calls(), "lvm lvremove") {
		t.Error("Cleanup removed the merging snapshot")
	}
	d.bootInto("rootfs1")
	if d.originSum(len(img)) != sha256.Sum256(img) {
		t.Error("after the merge the origin does not hold the new image")
	}
	if d.state().lv("rootfs2") != nil {
		t.Error("the snapshot survived its merge")
	}
}

// TestRollbackFromTheSnapshot: installed, booted, rolled back (as
// `mender rollback` does, from the running snapshot): the boot target
// goes back, the snapshot can only go after the reboot, and the origin is
// the base throughout.
func TestRollbackFromTheSnapshot(t *testing.T) {
	base := image(3, imgSize)
	img := change(base, chunk, 7, 8, 9)
	d := newDevice(t, base, deviceOpts{})
	baseSum := d.originSum(len(base))
	rel := makeRelease(t, base, img, releaseOpts{})
	tree := d.installed(rel)
	d.bootInto("rootfs2")
	d.calls()
	r := d.runState("ArtifactRollback", tree)
	if r.code != 0 {
		t.Fatalf("ArtifactRollback: %d", r.code)
	}
	mustContain(t, "rollback log", r.stderr, "is in use (the running rootfs); it is removed after the reboot into rootfs1")
	if d.state().Boot["mender_boot_part"] != "1" {
		t.Errorf("boot env after rollback: %v", d.state().Boot)
	}
	if r := d.runState("ArtifactVerifyRollbackReboot", tree); r.code == 0 {
		t.Error("ArtifactVerifyRollbackReboot passed while running from the snapshot")
	}
	if r := d.runState("Cleanup", tree); r.code != 0 || d.state().lv("rootfs2") == nil {
		t.Fatalf("Cleanup while the snapshot is in use: exit %d", r.code)
	}
	d.bootInto("rootfs1")
	if r := d.runState("ArtifactVerifyRollbackReboot", tree); r.code != 0 {
		t.Error("ArtifactVerifyRollbackReboot failed on the origin")
	}
	if r := d.runState("Cleanup", tree); r.code != 0 {
		t.Fatalf("Cleanup: %d", r.code)
	}
	if d.state().lv("rootfs2") != nil {
		t.Error("Cleanup after the reboot left the snapshot")
	}
	if r := d.runState("Cleanup", tree); r.code != 0 {
		t.Error("a second Cleanup failed")
	}
	if d.originSum(len(base)) != baseSum {
		t.Error("the origin changed")
	}
}

// TestRollbackBeforeReboot: an install that fails before the reboot is
// rolled back at once, snapshot and all.
func TestRollbackBeforeReboot(t *testing.T) {
	base := image(4, imgSize)
	d := newDevice(t, base, deviceOpts{})
	rel := makeRelease(t, base, change(base, chunk, 3), releaseOpts{})
	tree := d.installed(rel)
	for _, state := range []string{"ArtifactRollback", "ArtifactFailure", "Cleanup", "Cleanup"} {
		if r := d.runState(state, tree); r.code != 0 {
			t.Fatalf("%s: exit %d", state, r.code)
		}
	}
	if d.state().lv("rootfs2") != nil || d.state().Boot["mender_boot_part"] != "1" {
		t.Errorf("after rollback: snapshot %v, boot %v", d.state().lv("rootfs2"), d.state().Boot)
	}
}

// TestDownloadWithFileSizes: the 4.x client's variant, where stream-next
// carries the payload's size.
func TestDownloadWithFileSizes(t *testing.T) {
	base := image(5, imgSize)
	img := change(base, chunk, 40)
	d := newDevice(t, base, deviceOpts{})
	rel := makeRelease(t, base, img, releaseOpts{})
	tree := newTree(t, rel.headers)
	if r := d.download(tree, true, rel.payload); r.code != 0 || r.clientErr != nil {
		t.Fatalf("DownloadWithFileSizes: exit %d, client %v", r.code, r.clientErr)
	}
	if got := d.volume("rootfs2"); !bytes.Equal(got, img) {
		t.Error("the snapshot does not hold the new image")
	}
}

// TestDriftIsMeasuredAndPaid: the origin drifted from the base (a rw
// mount); the pre-flight counts the drifted chunks, the figure it logs is
// what the snapshot really uses, and the refusal line, when it does not
// fit, says how much of the need is drift.
func TestDriftIsMeasuredAndPaid(t *testing.T) {
	base := image(6, imgSize)
	img := change(base, chunk, 10, 11)
	drifted := change(base, chunk, 11, 200, 201, 202) // one drifted chunk is also changed
	for _, tc := range []struct {
		name         string
		unit         int64
		chunk        int64
		drift, extra int
	}{{"W=C=4KiB", 4096, 4096, 4, 3}, {"W=64KiB", 64 << 10, 4096, 4, 3}, {"C=16KiB", 16 << 10, 16 << 10, 2, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, drifted, deviceOpts{})
			rel := makeRelease(t, base, img, releaseOpts{unit: tc.unit, chunk: tc.chunk})
			tree := newTree(t, rel.headers)
			r := d.download(tree, false, rel.payload)
			if r.code != 0 {
				t.Fatalf("Download: %d", r.code)
			}
			pred, actual := cowFigures(t, r.stderr)
			if tc.unit == tc.chunk && pred != actual {
				// The fake counts chunks whose bytes differ; with W > C the
				// module also rewrites equal chunks of a differing unit,
				// which only the real kernel counts (make e2e).
				t.Errorf("predicted %d, fake kernel %d", pred, actual)
			}
			mustContain(t, "log", r.stderr, fmt.Sprintf("drift_chunks=%d", tc.drift),
				fmt.Sprintf("drift: the rootfs differs from the base in %d chunks (%d of them outside the release's changes)", tc.drift, tc.extra))
			if !bytes.Equal(d.volume("rootfs2"), img) {
				t.Error("the snapshot does not hold the new image")
			}
		})
	}
}

func TestNoFit(t *testing.T) {
	base := image(7, imgSize)
	img := change(base, chunk, 1, 2, 3)
	for _, tc := range []struct {
		name    string
		origin  []byte
		free    int64
		config  string
		message string
	}{
		{"no room for the reserve", base, 8, "", "does not fit: needs 8409088 bytes (COW 20480 + reserve 8388608), volume group devicevg has 8388608 free; drift is 0 bytes, 0.0% of the need"},
		{"drift pushes it over", change(base, chunk, 300, 301, 302, 303, 304, 305, 306, 307), 9, "reserve = 9400KiB",
			"does not fit: needs 9678848 bytes (COW 53248 + reserve 9625600), volume group devicevg has 9437184 free; drift is 32768 bytes, 0.3% of the need"},
		{"snapshot_size too small", base, 64, "snapshot_size = 4MiB", "does not fit: snapshot_size 4194304 is less than the 8409088 needed"},
		{"snapshot_size larger than the free space", base, 16, "snapshot_size = 17MiB", "does not fit: snapshot_size 17825792 is more than the 16777216 free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, tc.origin, deviceOpts{freeExtents: tc.free, config: tc.config})
			sum := d.originSum(len(base))
			rel := makeRelease(t, base, img, releaseOpts{})
			tree := newTree(t, rel.headers)
			r := d.download(tree, false, rel.payload)
			if r.code != exitNoFit {
				t.Fatalf("exit %d, want %d", r.code, exitNoFit)
			}
			mustContain(t, "refusal", r.stderr, "lvm-um: Download failed: "+tc.message)
			if calls := d.calls(); ran(calls, "lvm lvcreate") || ran(calls, "lvm lvremove") {
				t.Errorf("a refused download changed volumes: %q", calls)
			}
			if d.state().lv("rootfs2") != nil || d.originSum(len(base)) != sum {
				t.Error("a refused download left a snapshot or changed the origin")
			}
			if r.clientErr == nil {
				t.Error("the client finished a refused download")
			}
			if r := d.runState("Cleanup", tree); r.code != 0 {
				t.Errorf("Cleanup after a refusal: %d", r.code)
			}
		})
	}
}

func TestSnapshotSizeFromConfig(t *testing.T) {
	base := image(8, imgSize)
	img := change(base, chunk, 5)
	d := newDevice(t, base, deviceOpts{config: "snapshot_size = 20M\nreserve = 1MiB\n"})
	rel := makeRelease(t, base, img, releaseOpts{})
	if r := d.download(newTree(t, rel.headers), false, rel.payload); r.code != 0 {
		t.Fatalf("Download: %d", r.code)
	}
	if !ran(d.calls(), "lvm lvcreate --snapshot --extents 20 ") {
		t.Error("the configured snapshot size was not used")
	}
}

// TestOverflowDuringDownload: a snapshot forced smaller than the need
// overflows while written; the download fails and removes it.
func TestOverflowDuringDownload(t *testing.T) {
	base := image(9, imgSize)
	var many []int
	for c := 0; c < 300; c++ {
		many = append(many, c)
	}
	img := change(base, chunk, many...)
	d := newDevice(t, base, deviceOpts{config: "snapshot_size = 1MiB\nsnapshot_size_force = yes\nreserve = 0\n"})
	sum := d.originSum(len(base))
	rel := makeRelease(t, base, img, releaseOpts{})
	r := d.download(newTree(t, rel.headers), false, rel.payload)
	if r.code == 0 {
		t.Fatal("an overflowing download succeeded")
	}
	mustContain(t, "log", r.stderr, "warning: snapshot_size_force", "actual=invalid", "overflowed while the update was written", "removed snapshot devicevg/rootfs2")
	if d.state().lv("rootfs2") != nil || d.originSum(len(base)) != sum {
		t.Error("an overflowed download left a snapshot or changed the origin")
	}
}

// TestOverflowShowsAsOverflow: on a real device an overflow first shows
// as a failed write or flush; the line must still say it overflowed.
func TestOverflowShowsAsOverflow(t *testing.T) {
	base := image(15, imgSize)
	d := newDevice(t, base, deviceOpts{})
	sum := d.originSum(len(base))
	d.edit(func(s *fakeState) { s.BreakSnapshot = true })
	rel := makeRelease(t, base, change(base, chunk, 1), releaseOpts{})
	r := d.download(newTree(t, rel.headers), false, rel.payload)
	checkRefused(t, d, r, exitFailure, "Download failed: snapshot devicevg/rootfs2 overflowed while the update was written (store of 9437184 bytes): opening the snapshot: ", sum, len(base))
}

// TestStaleSnapshotGivesBackItsSpace: a snapshot a rollback could not
// remove (it was the running rootfs) is removed by the next Download,
// whose pre-flight then counts the space it gave back.
func TestStaleSnapshotGivesBackItsSpace(t *testing.T) {
	base := image(16, imgSize)
	d := newDevice(t, base, deviceOpts{freeExtents: 10})
	tree := d.installed(makeRelease(t, base, change(base, chunk, 1), releaseOpts{}))
	d.bootInto("rootfs2")
	if r := d.runState("ArtifactRollback", tree); r.code != 0 {
		t.Fatalf("ArtifactRollback: %d", r.code)
	}
	d.bootInto("rootfs1") // standalone: nothing runs after this reboot
	if free := d.state().freeExtents(); free != 1 {
		t.Fatalf("the leftover snapshot should hold 9 of 10 extents, %d free", free)
	}
	rel := makeRelease(t, base, change(base, chunk, 2), releaseOpts{})
	r := d.download(newTree(t, rel.headers), false, rel.payload)
	if r.code != 0 {
		t.Fatalf("Download after the rollback: exit %d", r.code)
	}
	mustContain(t, "log", r.stderr, "removed snapshot devicevg/rootfs2", "available=10485760")
}

// TestInvalidSnapshotIsNeverMerged: the snapshot overflows while the
// update runs; verify and commit refuse it, the client rolls back, and
// after the reboot the origin is the base and the snapshot goes.
func TestInvalidSnapshotIsNeverMerged(t *testing.T) {
	base := image(10, imgSize)
	d := newDevice(t, base, deviceOpts{})
	sum := d.originSum(len(base))
	rel := makeRelease(t, base, change(base, chunk, 30), releaseOpts{})
	tree := d.installed(rel)
	d.bootInto("rootfs2")
	d.edit(func(s *fakeState) { s.lv("rootfs2").Invalid = true })
	d.calls()
	for _, state := range []string{"ArtifactVerifyReboot", "ArtifactCommit"} {
		r := d.runState(state, tree)
		if r.code == 0 {
			t.Fatalf("%s accepted an invalid snapshot", state)
		}
		mustContain(t, state, r.stderr, "actual=invalid", "is invalid: its copy-on-write store overflowed; the update is rolled back, never merged")
	}
	if calls := d.calls(); ran(calls, "lvm lvconvert") || ran(calls, "fw_setenv") {
		t.Errorf("an invalid snapshot was merged or booted: %q", calls)
	}
	for _, state := range []string{"ArtifactRollback", "ArtifactFailure", "Cleanup"} {
		if r := d.runState(state, tree); r.code != 0 {
			t.Fatalf("%s: %d", state, r.code)
		}
	}
	d.bootInto("rootfs1")
	if r := d.runState("Cleanup", tree); r.code != 0 || d.state().lv("rootfs2") != nil {
		t.Errorf("Cleanup after the rollback reboot: exit %d, snapshot %v", r.code, d.state().lv("rootfs2"))
	}
	if d.originSum(len(base)) != sum || d.state().Boot["mender_boot_part"] != "1" {
		t.Error("the origin changed or the boot target is not the origin")
	}
}

// TestCommitNeedsTheBootedSnapshot: a bootloader that fell back to the
// origin (or a commit without reboot) must not merge.
func TestCommitNeedsTheBootedSnapshot(t *testing.T) {
	base := image(11, imgSize)
	d := newDevice(t, base, deviceOpts{})
	rel := makeRelease(t, base, change(base, chunk, 31), releaseOpts{})
	tree := d.installed(rel)
	d.bootInto("rootfs1") // the bootloader fell back
	for _, state := range []string{"ArtifactVerifyReboot", "ArtifactCommit"} {
		r := d.runState(state, tree)
		if r.code == 0 {
			t.Fatalf("%s passed on the origin", state)
		}
		mustContain(t, state, r.stderr, "is not the snapshot devicevg/rootfs2", "the update did not boot")
	}
	if ran(d.calls(), "lvm lvconvert") {
		t.Error("merged an update that did not boot")
	}
}

// TestCommitIsIdempotentAndRunsAfterCommit: a commit repeated after a
// crash finds the merge scheduled; after_commit runs once the merge is.
func TestCommitIsIdempotentAndRunsAfterCommit(t *testing.T) {
	base := image(12, imgSize)
	d := newDevice(t, base, deviceOpts{config: "after_commit = fw_setenv after commit\n"})
	rel := makeRelease(t, base, change(base, chunk, 1), releaseOpts{})
	tree := d.installed(rel)
	d.bootInto("rootfs2")
	d.calls()
	if r := d.runState("ArtifactCommit", tree); r.code != 0 {
		t.Fatalf("ArtifactCommit: %d", r.code)
	}
	calls := d.calls()
	if i, j := slices.Index(calls, "lvm lvconvert --merge devicevg/rootfs2"), slices.Index(calls, "fw_setenv after commit"); i < 0 || j < i {
		t.Errorf("after_commit must run after the merge: %q", calls)
	}
	r := d.runState("ArtifactCommit", tree)
	if r.code != 0 || ran(d.calls(), "lvm lvconvert") {
		t.Errorf("second commit: exit %d", r.code)
	}
	mustContain(t, "second commit", r.stderr, "already scheduled")
}

func TestCleanupAndStaleSnapshots(t *testing.T) {
	base := image(13, imgSize)
	img := change(base, chunk, 2)
	d := newDevice(t, base, deviceOpts{})
	tree := t.TempDir()
	for range 2 {
		if r := d.runState("Cleanup", tree); r.code != 0 {
			t.Fatalf("Cleanup with nothing to do: %d", r.code)
		}
	}
	if calls := d.calls(); ran(calls, "lvm lvremove") {
		t.Errorf("Cleanup removed something: %q", calls)
	}
	// A snapshot an earlier download left (not installed): removed by
	// the next Download, which then proceeds.
	rel := makeRelease(t, base, img, releaseOpts{})
	if r := d.download(newTree(t, rel.headers), false, rel.payload); r.code != 0 {
		t.Fatal("first download failed")
	}
	rel2 := makeRelease(t, base, change(base, chunk, 3), releaseOpts{})
	r := d.download(newTree(t, rel2.headers), false, rel2.payload)
	if r.code != 0 {
		t.Fatalf("second download: %d", r.code)
	}
	mustContain(t, "log", r.stderr, "removed snapshot devicevg/rootfs2", "created snapshot devicevg/rootfs2")
	// An installed one: Download refuses, Cleanup keeps it.
	d.runState("ArtifactInstall", tree)
	r = d.download(newTree(t, rel.headers), false, rel.payload)
	if r.code == 0 {
		t.Fatal("a download replaced an installed update")
	}
	mustContain(t, "log", r.stderr, "an update is installed in devicevg/rootfs2 and not yet committed or rolled back")
	if r := d.runState("Cleanup", tree); r.code != 0 || d.state().lv("rootfs2") == nil {
		t.Error("Cleanup removed an installed update")
	}
}

// TestForeignVolumeIsLeftAlone: a config whose snapshot name is another
// volume (here the data volume): nothing is created, removed or merged.
func TestForeignVolumeIsLeftAlone(t *testing.T) {
	base := image(14, imgSize)
	d := newDevice(t, base, deviceOpts{config: "snapshot = data\n"})
	rel := makeRelease(t, base, change(base, chunk, 2), releaseOpts{})
	tree := newTree(t, rel.headers)
	r := d.download(tree, false, rel.payload)
	if r.code != exitInput {
		t.Fatalf("Download: exit %d", r.code)
	}
	mustContain(t, "log", r.stderr, "volume devicevg/data exists and is not a snapshot of rootfs1 made by lvm-um: refusing to touch it")
	for _, state := range []string{"ArtifactInstall", "ArtifactCommit", "ArtifactRollback", "Cleanup", "ArtifactFailure"} {
		d.runState(state, tree)
	}
	calls := d.calls()
	for _, c := range calls {
		if strings.HasPrefix(c, "lvm lv") && !strings.HasPrefix(c, "lvm lvs") {
			t.Errorf("ran %q against a foreign volume", c)
		}
	}
	if string(d.volume("data")) != "data volume" {
		t.Error("the data volume changed")
	}
}
