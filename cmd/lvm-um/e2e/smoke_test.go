package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// cowCase is one snapshot written in known places: dm-snapshot's own figure
// (dmsetup status) must equal blockmap's model of cow-model.md's formula.
type cowCase struct {
	name   string
	chunk  int64
	snap   string // lvcreate -L
	writes []cowWrite
}

type cowWrite struct {
	same     bool // rewrite the bytes already there (still costs the chunk)
	off, len int64
}

// testCOWFormula: every chunk that receives any write gets an exception,
// whatever the bytes, plus the header, the first metadata area and one
// metadata chunk per C/16 exceptions (cow-model.md).
func testCOWFormula(t *testing.T, w *world) {
	const K, M = 1 << 10, 1 << 20
	cases := []cowCase{
		{"c4k", 4 * K, "8m", []cowWrite{
			{false, 0, 4 * K},            // one whole chunk
			{false, 1 * M, 1 * M},        // 256 chunks
			{false, 3*M + 3584, 1 * K},   // a sector-aligned write across a chunk boundary: 2 chunks
			{true, 8 * M, 64 * K},        // 16 chunks rewritten with their own bytes
			{false, 8*M + 60*K, 8 * K},   // overlaps the previous: 1 new chunk
			{false, rootSize - 512, 512}, // the last sector
		}},
		{"c8k", 8 * K, "8m", []cowWrite{
			{false, 0, 4*M + 8*K}, // 513 chunks: the second metadata chunk (E = 512)
		}},
		{"c64k", 64 * K, "4m", []cowWrite{
			{false, 4 * K, 512},
			{false, 2*M + 100*K, 8 * K},
			{true, 10 * M, 4 * K},
		}},
	}
	var lines []string
	for _, c := range cases {
		var ws []string
		for _, wr := range c.writes {
			kind := "rand"
			if wr.same {
				kind = "same"
			}
			ws = append(ws, fmt.Sprintf("%s:%d:%d", kind, wr.off, wr.len))
		}
		lines = append(lines, fmt.Sprintf("%s %d %s %s", c.name, c.chunk, c.snap, strings.Join(ws, " ")))
	}
	m := newMachine(t, w, "cow", w.golden, 0)
	cases_ := writeTemp(t, m.dir, "cases", strings.Join(lines, "\n")+"\n")
	r := m.boot(bootOpts{phase: "cowcheck", files: map[string]string{"cases": cases_}})
	for _, c := range cases {
		model := blockmap.Model{WriteUnit: blockmap.SectorSize, Chunk: c.chunk, ImageSize: rootSize}
		var rs []blockmap.Range
		for _, wr := range c.writes {
			rs = append(rs, blockmap.Range{Off: wr.off, Len: wr.len})
		}
		want, _, err := model.EstimateRanges(rs)
		if err != nil {
			t.Fatal(err)
		}
		alloc, _, meta := parseSnapshotStatus(t, r.get(t, "status_"+c.name))
		t.Logf("%s: N = %d chunks of %d: kernel %d/%d sectors, formula %d/%d", c.name, want.ChunksWritten, c.chunk,
			alloc, meta, want.SectorsAllocated, want.MetadataSectors)
		if alloc != want.SectorsAllocated || meta != want.MetadataSectors {
			t.Errorf("%s: dmsetup status says %d sectors allocated, %d metadata; the formula says %d and %d",
				c.name, alloc, meta, want.SectorsAllocated, want.MetadataSectors)
		}
	}
	for _, k := range []string{"origin_sha_before", "origin_sha_after"} {
		if got := r.get(t, k); got != w.baseSHA {
			t.Errorf("%s: %s, want the base's %s (writes to a snapshot must not reach its origin)", k, got, w.baseSHA)
		}
	}
}

// parseSnapshotStatus reads `dmsetup status` of a snapshot:
// "0 <len> snapshot <allocated>/<total> <metadata>" (sectors).
func parseSnapshotStatus(t *testing.T, s string) (alloc, total, meta int64) {
	t.Helper()
	f := strings.Fields(s)
	if len(f) < 5 || f[2] != "snapshot" {
		t.Fatalf("dmsetup status %q: not a valid snapshot's status", s)
	}
	a, b, _ := strings.Cut(f[3], "/")
	var errs [3]error
	alloc, errs[0] = strconv.ParseInt(a, 10, 64)
	total, errs[1] = strconv.ParseInt(b, 10, 64)
	meta, errs[2] = strconv.ParseInt(f[4], 10, 64)
	for _, err := range errs {
		if err != nil {
			t.Fatalf("dmsetup status %q: unreadable", s)
		}
	}
	return alloc, total, meta
}

// testMenderStates runs mender-client 3.4's standalone mode against the
// recording module and checks which states and queries it calls, in which
// order, across a real reboot: the facts the lvm-um module is built on
// (/work/notes/vm.md).
func testMenderStates(t *testing.T, w *world) {
	depBase := "rootfs-image.checksum:" + w.baseSHA
	wrongDep := w.artifact(t, "rec-wrongdep", "-T", "rec", "-n", "rec-wrongdep", "-d", "rootfs-image.checksum:"+strings.Repeat("0", 64))
	dlFail := w.artifact(t, "rec-dlfail", "-T", "rec", "-n", "rec-dlfail", "-d", depBase)
	instFail := w.artifact(t, "rec-instfail", "-T", "rec", "-n", "rec-instfail")
	rec1 := w.artifact(t, "rec-1", "-T", "rec", "-n", "rec-1", "-d", depBase)
	rec2 := w.artifact(t, "rec-2", "-T", "rec", "-n", "rec-2")
	rec3 := w.artifact(t, "rec-3", "-T", "rec", "-n", "rec-3")
	m := newMachine(t, w, "states", w.golden, 0)

	// Boot 1: refusals, then an install that asks for a reboot.
	r := m.boot(bootOpts{phase: "install", files: map[string]string{
		"wrongdep.mender": wrongDep, "dlfail.mender": dlFail, "instfail.mender": instFail, "rec1.mender": rec1,
	}, script: `
mender_run wrongdep install /ctl/wrongdep.mender
report_rec wrongdep
touch /data/rec-fail-Download
mender_run dlfail install /ctl/dlfail.mender
rm /data/rec-fail-Download
report_rec dlfail
touch /data/rec-fail-ArtifactInstall
mender_run instfail install /ctl/instfail.mender
rm /data/rec-fail-ArtifactInstall
report_rec instfail
mender_run install1 install /ctl/rec1.mender
report_rec install1
grep -q 'requested a reboot' /tmp/mender.out && say reboot_asked yes
report_state
`})
	expectFail(t, r, "wrongdep")
	expectCalls(t, r, "wrongdep", nil)
	expectFail(t, r, "dlfail")
	expectCalls(t, r, "dlfail", []string{"Download", "Cleanup"})
	expectFail(t, r, "instfail")
	// The failure path asks SupportsRollback again before rolling back.
	expectCalls(t, r, "instfail", []string{"Download", "SupportsRollback", "ArtifactInstall",
		"SupportsRollback", "ArtifactRollback", "ArtifactFailure", "Cleanup"})
	if got := r.get(t, "install1_rc"); got != "0" {
		t.Fatalf("mender install rec-1: exit %s", got)
	}
	expectCalls(t, r, "install1", []string{"Download", "SupportsRollback", "ArtifactInstall", "NeedsArtifactReboot"})
	if r.get(t, "reboot_asked") != "yes" {
		t.Error("mender install did not say that a reboot is needed")
	}
	if got := r.get(t, "artifact"); got != "factory" {
		t.Errorf("artifact before commit: %q, want factory", got)
	}
	// The Download call saw the payload through stream-next, then the final
	// empty read (3.4 writes no size on the line).
	recLines := r.kv["rec.install1"]
	if !containsPrefix(recLines, "stream streams/rec-1.payload ") || !contains(recLines, "stream-next empty") {
		t.Errorf("Download's streams: %q", recLines)
	}

	// Boot 2 (a real reboot): commit; install + rollback; a commit that
	// fails rolls back.
	r = m.boot(bootOpts{phase: "commit", files: map[string]string{"rec2.mender": rec2, "rec3.mender": rec3}, script: `
mender_run commit1 commit
report_rec commit1
say after_commit1 "$(mender --no-syslog --log-level error show-artifact)"
mender_run install2 install /ctl/rec2.mender
report_rec install2
mender_run rollback2 rollback
report_rec rollback2
say after_rollback2 "$(mender --no-syslog --log-level error show-artifact)"
mender_run install3 install /ctl/rec3.mender
report_rec install3
touch /data/rec-fail-ArtifactCommit
mender_run commit3 commit
rm /data/rec-fail-ArtifactCommit
report_rec commit3
say after_commit3 "$(mender --no-syslog --log-level error show-artifact)"
mender_run commit_nothing commit
report_rec commit_nothing
`})
	if got := r.get(t, "commit1_rc"); got != "0" {
		t.Fatalf("mender commit after the reboot: exit %s", got)
	}
	expectCalls(t, r, "commit1", []string{"ArtifactCommit", "Cleanup"})
	if got := r.get(t, "after_commit1"); got != "rec-1" {
		t.Errorf("artifact after commit: %q, want rec-1", got)
	}
	expectCalls(t, r, "rollback2", []string{"SupportsRollback", "ArtifactRollback", "Cleanup"})
	if got := r.get(t, "after_rollback2"); got != "rec-1" {
		t.Errorf("artifact after rollback: %q, want rec-1", got)
	}
	expectFail(t, r, "commit3")
	expectCalls(t, r, "commit3", []string{"ArtifactCommit", "SupportsRollback", "ArtifactRollback", "ArtifactFailure", "Cleanup"})
	if got := r.get(t, "after_commit3"); got != "rec-1" {
		t.Errorf("artifact after a failed commit: %q, want rec-1", got)
	}
	expectFail(t, r, "commit_nothing")
	expectCalls(t, r, "commit_nothing", nil)
}

// expectCalls checks the states (in order) the recording module logged for
// a step: lines "call <module> <State> ...".
func expectCalls(t *testing.T, r *bootResult, step string, want []string) {
	t.Helper()
	var got []string
	for _, l := range r.kv["rec."+step] {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "call" {
			got = append(got, f[2])
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: the client called %v, want %v; log:\n%s", step, got, want, strings.Join(r.kv[step+"_log"], "\n"))
	}
}

func expectFail(t *testing.T, r *bootResult, step string) {
	t.Helper()
	if got := r.get(t, step+"_rc"); got == "0" {
		t.Errorf("%s: the client exited 0, want a failure", step)
	}
}

func containsPrefix(list []string, p string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
