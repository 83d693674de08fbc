package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/host"
	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
	"github.com/lvm-um-gen/lvm-um-gen/generator/sparse"
)

// device is a fake device: file-backed volumes in a fake volume group,
// the fake lvm/dmsetup/fw_setenv on PATH, a config file, and the device
// that the running rootfs is on.
type device struct {
	t         *testing.T
	dir       string
	statePath string
	logPath   string
	cfgPath   string
	env       Env
	root      host.Dev // what MountDev reports for root_mount
}

// deviceOpts shape a fake device.
type deviceOpts struct {
	lvSize      int64  // the origin volume's size; 0: the base's size
	extent      int64  // extent size; 0: 1 MiB
	freeExtents int64  // 0: 64
	config      string // the config file; "" means the defaults plus nothing
	noConfig    bool   // no config file at all
}

// newDevice makes a fake device whose origin rootfs1 holds base.
func newDevice(t *testing.T, base []byte, o deviceOpts) *device {
	t.Helper()
	dir := t.TempDir()
	d := &device{t: t, dir: dir, statePath: filepath.Join(dir, "state.json"), logPath: filepath.Join(dir, "calls.log"),
		cfgPath: filepath.Join(dir, "lvm-um.conf"), root: host.Dev{Major: 253, Minor: 0}}
	if o.lvSize == 0 {
		o.lvSize = int64(len(base))
	}
	if o.extent == 0 {
		o.extent = 1 << 20
	}
	if o.freeExtents == 0 {
		o.freeExtents = 64
	}
	vol := make([]byte, o.lvSize)
	copy(vol, base)
	if err := os.WriteFile(filepath.Join(dir, "rootfs1"), vol, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("data volume"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &fakeState{VG: "devicevg", ExtentSize: o.extent, Extents: o.freeExtents, NextMinor: 1,
		Boot: map[string]string{"mender_boot_part": "1"},
		LVs: []*fakeLV{
			{Name: "rootfs1", Path: filepath.Join(dir, "rootfs1"), Size: o.lvSize, Open: true, Minor: 0},
			{Name: "data", Path: filepath.Join(dir, "data"), Size: 11, Open: true, Minor: 1},
		}}
	if err := st.save(d.statePath); err != nil {
		t.Fatal(err)
	}
	if !o.noConfig {
		if err := os.WriteFile(d.cfgPath, []byte(o.config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range fakeNames {
		if err := os.Symlink(self, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_LVM_STATE", d.statePath)
	t.Setenv("FAKE_LVM_LOG", d.logPath)
	d.env = Env{Runner: host.Exec{}, ConfigPath: d.cfgPath, MountDev: func(string) (host.Dev, error) { return d.root, nil }}
	return d
}

func (d *device) state() *fakeState {
	d.t.Helper()
	s, err := loadFake(d.statePath)
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

func (d *device) edit(f func(*fakeState)) {
	d.t.Helper()
	s := d.state()
	f(s)
	if err := s.save(d.statePath); err != nil {
		d.t.Fatal(err)
	}
}

// calls returns the commands the module ran, one string each, and
// forgets them.
func (d *device) calls() []string {
	d.t.Helper()
	b, err := os.ReadFile(d.logPath)
	if err != nil && !os.IsNotExist(err) {
		d.t.Fatal(err)
	}
	os.Remove(d.logPath)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// ran reports whether the module ran a command starting with prefix
// since the last calls().
func ran(calls []string, prefix string) bool {
	return slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, prefix) })
}

// volume returns the bytes of the LV name, or nil if there is none.
func (d *device) volume(name string) []byte {
	d.t.Helper()
	lv := d.state().lv(name)
	if lv == nil {
		return nil
	}
	b, err := os.ReadFile(lv.Path)
	if err != nil {
		d.t.Fatal(err)
	}
	return b
}

// originSum is the sha256 of the origin's first n bytes.
func (d *device) originSum(n int) [32]byte { return sha256.Sum256(d.volume("rootfs1")[:n]) }

// installed runs Download and ArtifactInstall of rel and returns the
// File API tree.
func (d *device) installed(rel testRelease) string {
	d.t.Helper()
	tree := newTree(d.t, rel.headers)
	if r := d.download(tree, false, rel.payload); r.code != 0 || r.clientErr != nil {
		d.t.Fatalf("Download: exit %d, client %v", r.code, r.clientErr)
	}
	if r := d.runState("ArtifactInstall", tree); r.code != 0 {
		d.t.Fatalf("ArtifactInstall: exit %d", r.code)
	}
	return tree
}

// bootInto simulates a reboot whose bootloader mounts volume name as the
// rootfs: pending merges of valid snapshots happen, name is open and is
// the root_mount's device.
func (d *device) bootInto(name string) {
	d.t.Helper()
	d.edit(func(s *fakeState) {
		if err := s.activate(); err != nil {
			d.t.Fatal(err)
		}
		lv := s.lv(name)
		if lv == nil {
			d.t.Fatalf("boot into %s: no such volume", name)
		}
		lv.Open = true
		s.lv("data").Open = true
		d.root = host.Dev{Major: 253, Minor: lv.Minor}
	})
}

// image makes a pseudo-random image of n bytes, mostly zero chunks like a
// real filesystem image, from seed.
func image(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for off := 0; off < n; off += 4096 {
		if r.IntN(3) == 0 {
			continue
		}
		for i := off; i < min(off+4096, n); i++ {
			b[i] = byte(r.Uint32())
		}
	}
	return b
}

// change returns a copy of img with chunk-sized regions rewritten at the
// given chunk indexes (one changed byte each).
func change(img []byte, chunk int, chunks ...int) []byte {
	out := slices.Clone(img)
	for _, c := range chunks {
		out[c*chunk+17] ^= 0xa5
	}
	return out
}

// release is a test artifact: its headers, and its payload.
type testRelease struct {
	headers treeHeaders
	payload payload
	man     *manifest.Manifest
}

// releaseOpts tune a test artifact.
type releaseOpts struct {
	chunk, unit int64 // 0: 4 KiB
	reserve     int64 // -1: no reserve_bytes; 0: 8 MiB
	delta       bool
}

// makeRelease builds the manifest, meta-data, type-info and payload of an
// artifact that updates base to img, as lvm-um-gen would.
func makeRelease(t *testing.T, base, img []byte, o releaseOpts) testRelease {
	t.Helper()
	if o.chunk == 0 {
		o.chunk = 4096
	}
	if o.unit == 0 {
		o.unit = o.chunk
	}
	if o.reserve == 0 {
		o.reserve = 8 << 20
	}
	if len(base) != len(img) {
		t.Fatal("base and image differ in size")
	}
	baseHashes, _, err := blockmap.HashChunks(context.Background(), strings.NewReader(string(base)), o.chunk, blockmap.HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	newHashes, _, err := blockmap.HashChunks(context.Background(), strings.NewReader(string(img)), o.chunk, blockmap.HashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	man := &manifest.Manifest{ChunkBytes: o.chunk, WriteUnitBytes: o.unit, ImageBytes: int64(len(img)),
		BaseSHA256: sha256.Sum256(base), ImageSHA256: sha256.Sum256(img), Base: baseHashes}
	for i := range newHashes {
		if newHashes[i] != baseHashes[i] {
			man.Changed = append(man.Changed, blockmap.ChangedChunk{Index: int64(i), Hash: newHashes[i]})
		}
	}
	enc, err := man.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cost, err := man.ReleaseCost()
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]any{
		manifest.MetaKey: enc, "base_sha256": hex.EncodeToString(man.BaseSHA256[:]),
		"chunk_bytes": o.chunk, "write_unit_bytes": o.unit, "image_bytes": len(img),
		"predicted_cow_bytes": cost.COWBytes, "units_changed": cost.UnitsChanged, "chunks_changed": cost.ChunksWritten,
	}
	if o.reserve >= 0 {
		meta["reserve_bytes"] = o.reserve
	}
	typ := typeFull
	if o.delta {
		typ = typeDelta
	}
	ti := map[string]any{
		"type":                     typ,
		"artifact_provides":        map[string]string{"rootfs-image.checksum": hex.EncodeToString(man.ImageSHA256[:]), "rootfs-image.version": "release-2"},
		"artifact_depends":         map[string]string{"rootfs-image.checksum": hex.EncodeToString(man.BaseSHA256[:])},
		"clears_artifact_provides": []string{"rootfs-image.*"},
	}
	rel := testRelease{man: man, headers: treeHeaders{payloadType: typ, metaData: mustJSON(t, meta), typeInfo: mustJSON(t, ti)}}
	rel.payload = payload{name: "rootfs", data: img, cut: -1}
	if o.delta {
		rel.payload = payload{name: "rootfs.simg", data: makeDelta(t, img, man), cut: -1}
	}
	return rel
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeDelta writes the Android sparse delta of img that carries the
// manifest's changed chunks, as lvm-um-gen generate --delta does.
func makeDelta(t *testing.T, img []byte, man *manifest.Manifest) []byte {
	t.Helper()
	var carry []sparse.Extent
	for _, c := range man.Changed {
		if k := len(carry) - 1; k >= 0 && carry[k].Block+carry[k].Blocks == c.Index {
			carry[k].Blocks++
			continue
		}
		carry = append(carry, sparse.Extent{Block: c.Index, Blocks: 1})
	}
	h, chunks, err := sparse.Plan(bytes.NewReader(img), int64(len(img)), uint32(man.ChunkBytes), carry)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sparse.Write(&buf, bytes.NewReader(img), h, chunks); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
