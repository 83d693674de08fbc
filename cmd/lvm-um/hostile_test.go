package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkRefused asserts what every failed Download must leave: a non-zero
// exit, exactly one error line, the origin's bytes unchanged and no
// snapshot.
func checkRefused(t *testing.T, d *device, r result, wantCode int, wantMsg string, originSum [32]byte, n int) {
	t.Helper()
	checkFailed(t, d, r, wantCode, wantMsg, originSum, n)
	if r.clientErr == nil {
		t.Error("the client saw a complete download")
	}
}

// checkFailed is checkRefused for a failure found after the client
// streamed everything (a checksum mismatch).
func checkFailed(t *testing.T, d *device, r result, wantCode int, wantMsg string, originSum [32]byte, n int) {
	t.Helper()
	if r.code == 0 || (wantCode != 0 && r.code != wantCode) {
		t.Errorf("exit %d, want %d", r.code, wantCode)
	}
	var failed []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.Contains(l, " failed: ") {
			failed = append(failed, l)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], wantMsg) {
		t.Errorf("want one error line containing %q, got %q", wantMsg, failed)
	}
	if d.state().lv("rootfs2") != nil {
		t.Error("a snapshot was left behind")
	}
	if d.originSum(n) != originSum {
		t.Error("the origin changed")
	}
}

func TestBadConfig(t *testing.T) {
	base := image(20, imgSize)
	img := change(base, chunk, 4)
	for _, tc := range []struct {
		name, config string
		noConfig     bool
		msg          string
	}{
		{"missing", "", true, "config "},
		{"unknown key", "volumegroup = devicevg\n", false, `line 1: volumegroup: unknown key`},
		{"bad size", "reserve = 8 parsecs\n", false, `line 1: reserve: size "8 parsecs": unknown unit`},
		{"same volume twice", "snapshot = rootfs1\n", false, `origin and snapshot are both "rootfs1"`},
		{"bad quote", "boot_snapshot = fw_setenv \"x\n", false, "unterminated \" quote"},
		{"empty boot command", "boot_origin =\n", false, "boot_origin: needs a command"},
		{"bad name", "origin = ../rootfs1\n", false, `"../rootfs1" is not a volume name`},
		{"force without size", "snapshot_size_force = yes\n", false, "snapshot_size_force needs snapshot_size"},
		{"not key = value", "origin rootfs1\n", false, "want `key = value`"},
		{"wrong volume group", "volume_group = othervg\n", false, "volume group othervg (config volume_group)"},
		{"wrong origin", "origin = rootfs9\n", false, "origin volume devicevg/rootfs9 does not exist (config origin)"},
		{"origin not the running rootfs", "origin = data\n", false, "origin volume devicevg/data (device 253:1) is not the running rootfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, base, deviceOpts{config: tc.config, noConfig: tc.noConfig})
			sum := d.originSum(len(base))
			rel := makeRelease(t, base, img, releaseOpts{})
			tree := newTree(t, rel.headers)
			r := d.download(tree, false, rel.payload)
			checkRefused(t, d, r, exitInput, tc.msg, sum, len(base))
			for _, c := range d.calls() {
				if strings.HasPrefix(c, "lvm lv") && !strings.HasPrefix(c, "lvm lvs") {
					t.Errorf("a bad config ran %q", c)
				}
			}
		})
	}
}

func TestHostilePayloads(t *testing.T) {
	base := image(21, imgSize)
	img := change(base, chunk, 4, 5, 90)
	other := change(base, chunk, 4, 5, 91) // same size, other content
	for _, tc := range []struct {
		name      string
		payload   func(rel testRelease) payload
		withSizes bool
		code      int
		msg       string
		late      bool // found after the whole stream was read
	}{
		{"truncated stream", func(r testRelease) payload { p := r.payload; p.cut = len(p.data) / 2; return p },
			false, exitInput, "payload rootfs: truncated: shorter than the image's", false},
		{"stream cut at once", func(r testRelease) payload { p := r.payload; p.cut = 0; return p },
			false, exitInput, "truncated", false},
		{"payload longer than the image", func(r testRelease) payload {
			p := r.payload
			p.data = append(append([]byte{}, p.data...), make([]byte, 4096)...)
			return p
		}, false, exitInput, "payload rootfs: longer than the image's", false},
		{"sized payload smaller than the image", func(r testRelease) payload { p := r.payload; p.data = p.data[:len(p.data)-4096]; return p },
			true, exitInput, "payload rootfs is 2105344 bytes, the image 2109440", false},
		{"wrong content (checksum mismatch)", func(r testRelease) payload { p := r.payload; p.data = other; return p },
			false, exitInput, "the snapshot's sha256 is", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, base, deviceOpts{})
			sum := d.originSum(len(base))
			rel := makeRelease(t, base, img, releaseOpts{})
			r := d.download(newTree(t, rel.headers), tc.withSizes, tc.payload(rel))
			if tc.late {
				checkFailed(t, d, r, tc.code, tc.msg, sum, len(base))
			} else {
				checkRefused(t, d, r, tc.code, tc.msg, sum, len(base))
			}
			if !ran(d.calls(), "lvm lvremove --yes devicevg/rootfs2") {
				t.Error("the snapshot was not removed by the failed download")
			}
		})
	}
	t.Run("two payload files", func(t *testing.T) {
		d := newDevice(t, base, deviceOpts{})
		sum := d.originSum(len(base))
		rel := makeRelease(t, base, img, releaseOpts{})
		r := d.download(newTree(t, rel.headers), false, rel.payload, payload{name: "extra", data: []byte("x"), cut: -1})
		checkRefused(t, d, r, exitInput, "the artifact has a second payload file extra", sum, len(base))
	})
	t.Run("no payload file", func(t *testing.T) {
		d := newDevice(t, base, deviceOpts{})
		sum := d.originSum(len(base))
		rel := makeRelease(t, base, img, releaseOpts{})
		r := d.download(newTree(t, rel.headers), false)
		if r.clientErr != nil {
			t.Fatalf("client: %v", r.clientErr)
		}
		checkFailed(t, d, r, exitInput, "the artifact has no payload file", sum, len(base))
	})
	t.Run("image larger than the volume", func(t *testing.T) {
		d := newDevice(t, base, deviceOpts{lvSize: 2 << 20})
		sum := d.originSum(2 << 20)
		rel := makeRelease(t, base, img, releaseOpts{})
		r := d.download(newTree(t, rel.headers), false, rel.payload)
		checkRefused(t, d, r, exitInput, "the image is 2109440 bytes, more than the 2097152 of origin volume devicevg/rootfs1", sum, 2<<20)
	})
}

// TestHostileHeaders: meta-data and type-info that are missing, absurd or
// disagree are refused before any volume is touched.
func TestHostileHeaders(t *testing.T) {
	base := image(22, imgSize)
	img := change(base, chunk, 6)
	editMeta := func(f func(map[string]any)) func(*treeHeaders) {
		return func(h *treeHeaders) {
			var m map[string]any
			if err := json.Unmarshal(h.metaData, &m); err != nil {
				panic(err)
			}
			f(m)
			h.metaData, _ = json.Marshal(m)
		}
	}
	editTypeInfo := func(f func(map[string]any)) func(*treeHeaders) {
		return func(h *treeHeaders) {
			var m map[string]any
			if err := json.Unmarshal(h.typeInfo, &m); err != nil {
				panic(err)
			}
			f(m)
			h.typeInfo, _ = json.Marshal(m)
		}
	}
	otherSum := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		edit func(*treeHeaders)
		msg  string
	}{
		{"not JSON", func(h *treeHeaders) { h.metaData = []byte("{nope") }, "meta-data is not a JSON object"},
		{"no manifest", editMeta(func(m map[string]any) { delete(m, "lvm_um_manifest") }), `meta-data has no "lvm_um_manifest"`},
		{"no base_sha256", editMeta(func(m map[string]any) { delete(m, "base_sha256") }), `meta-data has no string "base_sha256"`},
		{"no image_bytes", editMeta(func(m map[string]any) { delete(m, "image_bytes") }), `meta-data has no "image_bytes"`},
		{"absurd image_bytes", editMeta(func(m map[string]any) { m["image_bytes"] = int64(1) << 62 }), "image_bytes is 4611686018427387904"},
		{"absurd chunk_bytes", editMeta(func(m map[string]any) { m["chunk_bytes"] = -3 }), "chunk_bytes is -3"},
		{"garbage manifest", editMeta(func(m map[string]any) { m["lvm_um_manifest"] = "AAAA" }), "invalid manifest"},
		{"negative reserve", editMeta(func(m map[string]any) { m["reserve_bytes"] = -1 }), "reserve_bytes = -1"},
		{"manifest for another base", editMeta(func(m map[string]any) { m["base_sha256"] = otherSum }), "made for the base"},
		{"depends on another base", editTypeInfo(func(m map[string]any) {
			m["artifact_depends"] = map[string]any{"rootfs-image.checksum": otherSum}
		}), "artifact type-info depends rootfs-image.checksum"},
		{"provides another checksum", editTypeInfo(func(m map[string]any) {
			m["artifact_provides"] = map[string]any{"rootfs-image.checksum": otherSum}
		}), "artifact type-info provides rootfs-image.checksum"},
		{"no type-info", func(h *treeHeaders) { h.typeInfo = nil }, "artifact header type-info"},
		{"another payload type", func(h *treeHeaders) { h.payloadType = "rootfs-image" }, `payload type "rootfs-image": this module handles lvm-um and lvm-um-delta`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, base, deviceOpts{})
			sum := d.originSum(len(base))
			rel := makeRelease(t, base, img, releaseOpts{})
			h := rel.headers
			tc.edit(&h)
			tree := newTree(t, h)
			if h.typeInfo == nil {
				os.Remove(filepath.Join(tree, "header", "type-info"))
			}
			r := d.download(tree, false, rel.payload)
			checkRefused(t, d, r, exitInput, tc.msg, sum, len(base))
			if calls := d.calls(); len(calls) != 1 || calls[0] != "" {
				t.Errorf("bad headers ran commands: %q", calls)
			}
		})
	}
}

func TestStreamNextParsing(t *testing.T) {
	dir := t.TempDir()
	tr := tree{dir: dir}
	for in, want := range map[string]stream{
		"streams/rootfs\n":       {Name: "rootfs", Size: -1},
		"streams/rootfs.simg":    {Name: "rootfs.simg", Size: -1},
		"streams/rootfs 123\n":   {Name: "rootfs", Size: 123},
		"":                       {},
		"\n":                     {},
		"streams/../../etc/x\n":  {Name: "!"},
		"files/rootfs\n":         {Name: "!"},
		"streams/\n":             {Name: "!"},
		"streams/..\n":           {Name: "!"},
		"rootfs\n":               {Name: "!"},
		"streams/a 12x\n":        {Name: "!"},
		"streams/a\nstreams/b\n": {Name: "!"},
	} {
		withSize := strings.Contains(in, " ")
		if err := os.WriteFile(filepath.Join(dir, "stream-next"), []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
		got, ok, err := tr.nextStream(withSize)
		switch {
		case want.Name == "!":
			if err == nil {
				t.Errorf("stream-next %q accepted: %+v", in, got)
			}
		case want.Name == "":
			if err != nil || ok {
				t.Errorf("stream-next %q: %+v %v %v, want the end", in, got, ok, err)
			}
		default:
			if err != nil || !ok || got != want {
				t.Errorf("stream-next %q: %+v %v %v, want %+v", in, got, ok, err, want)
			}
		}
	}
	big := bytes.Repeat([]byte("x"), maxStreamNext+1)
	if err := os.WriteFile(filepath.Join(dir, "stream-next"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.nextStream(false); err == nil {
		t.Error("an endless stream-next was accepted")
	}
}
