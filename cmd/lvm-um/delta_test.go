package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
)

// TestDeltaUpdate: a delta on a device that holds the base (or drifted
// only where the delta writes) builds the new image in the snapshot, at
// the predicted cost, and goes through install, commit and merge.
func TestDeltaUpdate(t *testing.T) {
	base := image(30, imgSize)
	img := change(base, chunk, 0, 1, 2, 64, 65, 300)
	// chunk 70 becomes zeros (a FILL chunk), chunk 71 a repeated pattern
	copy(img[70*chunk:71*chunk], make([]byte, chunk))
	for i := 71 * chunk; i < 72*chunk; i += 4 {
		binary.LittleEndian.PutUint32(img[i:], 0xdeadbeef)
	}
	for _, tc := range []struct {
		name   string
		unit   int64
		origin []byte
	}{
		{"W=C", 4096, base},
		{"W=64KiB", 64 << 10, base},
		{"drift inside the delta", 4096, change(base, chunk, 1, 65)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, tc.origin, deviceOpts{})
			sum := d.originSum(len(base))
			rel := makeRelease(t, base, img, releaseOpts{delta: true, unit: tc.unit})
			if len(rel.payload.data) > len(img)/10 {
				t.Fatalf("the delta is %d bytes for a %d-byte image", len(rel.payload.data), len(img))
			}
			tree := newTree(t, rel.headers)
			r := d.download(tree, false, rel.payload)
			if r.code != 0 || r.clientErr != nil {
				t.Fatalf("Download: exit %d, client %v", r.code, r.clientErr)
			}
			pred, actual := cowFigures(t, r.stderr)
			if tc.unit == chunk && pred != actual {
				t.Errorf("predicted %d, fake kernel %d", pred, actual)
			}
			if !bytes.Equal(d.volume("rootfs2"), img) {
				t.Fatal("the snapshot does not hold the new image")
			}
			if d.originSum(len(base)) != sum {
				t.Fatal("the origin changed")
			}
			for _, state := range []string{"ArtifactInstall", "ArtifactVerifyReboot", "ArtifactCommit", "Cleanup"} {
				if state == "ArtifactVerifyReboot" {
					d.bootInto("rootfs2")
				}
				if r := d.runState(state, tree); r.code != 0 {
					t.Fatalf("%s: exit %d", state, r.code)
				}
			}
			d.bootInto("rootfs1")
			if d.originSum(len(img)) != sha256.Sum256(img) {
				t.Error("after the merge the origin is not the new image")
			}
		})
	}
}

// TestDeltaRefusedOnDrift: where the delta keeps the base's bytes the
// device must hold them; otherwise the delta is refused before anything
// changes, naming the chunks, and the full artifact still installs.
func TestDeltaRefusedOnDrift(t *testing.T) {
	base := image(31, imgSize)
	img := change(base, chunk, 10, 11)
	drifted := change(base, chunk, 11, 300, 301)
	d := newDevice(t, drifted, deviceOpts{})
	sum := d.originSum(len(base))
	rel := makeRelease(t, base, img, releaseOpts{delta: true})
	r := d.download(newTree(t, rel.headers), false, rel.payload)
	checkRefused(t, d, r, exitInput, "delta refused: the rootfs differs from the base in 2 chunks the delta does not write "+
		"(chunk 300 at byte 1228800, chunk 301 at byte 1232896); the full artifact (payload type lvm-um) will install", sum, len(base))
	if ran(d.calls(), "lvm lvcreate") {
		t.Error("a refused delta created a snapshot")
	}
	full := makeRelease(t, base, img, releaseOpts{})
	if r := d.download(newTree(t, full.headers), false, full.payload); r.code != 0 {
		t.Fatalf("the full artifact: exit %d", r.code)
	}
	if !bytes.Equal(d.volume("rootfs2"), img) {
		t.Error("the full artifact did not build the new image")
	}
}

// TestHostileDeltas: a delta that writes where the manifest says nothing
// changes, a truncated one, one of another image size, one whose
// artifact does not depend on the base: refused, the snapshot removed.
func TestHostileDeltas(t *testing.T) {
	base := image(32, imgSize)
	img := change(base, chunk, 20, 21)
	for _, tc := range []struct {
		name string
		make func(t *testing.T, rel testRelease) (testRelease, payload)
		msg  string
	}{
		{"writes an unchanged chunk", func(t *testing.T, rel testRelease) (testRelease, payload) {
			wider := *rel.man
			wider.Changed = append([]blockmap.ChangedChunk{{Index: 19, Hash: 1}}, wider.Changed...)
			p := rel.payload
			p.data = makeDelta(t, img, &wider)
			return rel, p
		}, "the delta writes chunk 19"},
		{"truncated", func(t *testing.T, rel testRelease) (testRelease, payload) {
			p := rel.payload
			p.cut = len(p.data) - 100
			return rel, p
		}, "truncated"},
		{"not a sparse image", func(t *testing.T, rel testRelease) (testRelease, payload) {
			p := rel.payload
			p.data = img
			return rel, p
		}, "not an Android sparse image"},
		{"another image size", func(t *testing.T, rel testRelease) (testRelease, payload) {
			small := &manifest.Manifest{ChunkBytes: chunk, Changed: rel.man.Changed}
			p := rel.payload
			p.data = makeDelta(t, img[:len(img)-chunk], small)
			return rel, p
		}, "the delta is of a 2105344-byte image, the manifest's is 2109440"},
		{"no depends on the base", func(t *testing.T, rel testRelease) (testRelease, payload) {
			rel.headers.typeInfo = []byte(`{"type":"lvm-um-delta","artifact_provides":{"rootfs-image.checksum":"` +
				hexSum(img) + `"}}`)
			return rel, rel.payload
		}, "a delta artifact must depend on the base's rootfs-image.checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, base, deviceOpts{})
			sum := d.originSum(len(base))
			rel, p := tc.make(t, makeRelease(t, base, img, releaseOpts{delta: true}))
			r := d.download(newTree(t, rel.headers), false, p)
			checkFailed(t, d, r, exitInput, tc.msg, sum, len(base))
		})
	}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
