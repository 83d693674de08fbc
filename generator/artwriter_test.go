package generator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/generator/internal/testkeys"
	"github.com/mendersoftware/mender-artifact/artifact"
)

// TestArtifactWriterMatchesLibrary: the artifact writer makes, byte for
// byte, what the library-based writer it replaced (oracle_test.go) makes
// of the same inputs: full and delta payloads, every compression the
// library registers, each at epoch 0 and another; unsigned and signed
// with RSA and ECDSA keys, with and without state scripts, provides,
// depends and meta-data, in turn. Both of its ways in are checked: WriteArtifact of a
// payload file, and Generate's, the payload compressed while it streams
// and the artifact written into a temporary output file (whose payload
// entry is copied by copy_file_range).
func TestArtifactWriterMatchesLibrary(t *testing.T) {
	dir := t.TempDir()
	// 1.25 MiB and a bit: two compression blocks and streaming windows, a
	// tail that needs tar padding; random and repetitive parts.
	data := make([]byte, 5<<18+333)
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := range data {
		if (i>>16)%3 == 0 {
			data[i] = byte(rng.Uint32())
		} else {
			data[i] = byte(i / 4096)
		}
	}
	var scripts []string
	for _, name := range []string{"ArtifactReboot_Leave_50", "ArtifactInstall_Enter_10_prepare", "ArtifactCommit_Enter_01"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+name+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, p)
	}
	signers := map[string]artifact.Signer{"unsigned": nil, "rsa": testSigner(t, "rsa"), "ecdsa": testSigner(t, "ecdsa")}
	comps := artifact.GetRegisteredCompressorIds()
	if len(comps) < 4 {
		t.Fatalf("compressors %v", comps)
	}
	n := 0
	for _, typ := range []string{UpdateModule, DeltaModule} {
		for ci, comp := range comps {
			for _, epoch := range []int64{0, 1700000000} {
				{
					n++
					sname := []string{"unsigned", "rsa", "ecdsa"}[n%3]
					full := n%2 == 0 // scripts, provides, depends, meta-data every other case
					spec := &ArtifactSpec{
						Name: "release-2", DeviceTypes: []string{"raspberrypi4", "qemux86-64"},
						Compression: comp, Signer: signers[sname], Epoch: epoch, PayloadType: typ,
						ImageChecksum: fmt.Sprintf("%064x", n),
					}
					if ci == 0 && epoch == 0 {
						spec.Compression = "" // the default
					}
					if full {
						spec.SoftwareVersion = "2.0.1"
						spec.Scripts = scripts
						spec.Provides = map[string]string{"rootfs-image.build": "42"}
						spec.Depends = map[string]string{"bootloader.version": "2024.01"}
						spec.BaseChecksum = fmt.Sprintf("%064x", n+1)
						spec.MetaData = map[string]any{"lvm_um_manifest": "AAAA", "chunk_bytes": int64(4096), "base_sha256": "ab"}
					}
					name := fmt.Sprintf("%s/%s/%s/%d", typ, comp, sname, epoch)
					// Now and then a payload file of another mode, which
					// WriteArtifact keeps in the tar.
					mode := os.FileMode(outputMode)
					if n%4 == 3 {
						mode = 0o600
					}
					t.Run(name, func(t *testing.T) { compareWriters(t, spec, data, mode) })
				}
			}
		}
	}
}

func compareWriters(t *testing.T, spec *ArtifactSpec, data []byte, mode os.FileMode) {
	ctx := context.Background()
	dir := t.TempDir()
	pname, _ := spec.payloadName()
	path := filepath.Join(dir, pname)
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
	var want, got bytes.Buffer
	if err := oracleWriteArtifact(ctx, &want, spec, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteArtifact(ctx, &got, spec, path, nil); err != nil {
		t.Fatal(err)
	}
	if d := firstDiff(got.Bytes(), want.Bytes()); d >= 0 {
		t.Fatalf("WriteArtifact: %d bytes, the library's %d; first difference at byte %d", got.Len(), want.Len(), d)
	}
	if mode != outputMode {
		return // Generate's payloads are outputMode
	}

	// Generate's way: the payload streamed in windows, its sum given.
	p, err := newPayloadWriter(ctx, dir, spec, payloadHeader(pname, int64(len(data))), false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.remove()
	for b := data; len(b) > 0; b = b[min(len(b), streamWindow):] {
		if _, err := p.Write(b[:min(len(b), streamWindow)]); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(data)
	if err := p.finish(hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	out, err := resolveOutput("-o", filepath.Join(dir, "out.mender"))
	if err != nil {
		t.Fatal(err)
	}
	art, err := createTempOutput(out, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer art.remove()
	if err := writeArtifact(ctx, art, spec, p); err != nil {
		t.Fatal(err)
	}
	if _, err := art.finish(); err != nil {
		t.Fatal(err)
	}
	streamed, err := os.ReadFile(art.name())
	if err != nil {
		t.Fatal(err)
	}
	if d := firstDiff(streamed, want.Bytes()); d >= 0 {
		t.Fatalf("streamed: %d bytes, the library's %d; first difference at byte %d", len(streamed), want.Len(), d)
	}
	tmp := p.f.Name()
	p.remove()
	if _, err := os.Stat(tmp); err == nil {
		t.Fatal("payload temporary file left")
	}
}

// firstDiff is the first offset where a and b differ, -1 if equal.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func testSigner(t *testing.T, kind string) artifact.Signer {
	priv, _ := testkeys.PEM(t, kind == "ecdsa")
	s, err := ParseSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestArtifactWriterCancel: a cancelled context stops the payload's
// compression and the artifact's writing, with ctx's error, and leaves no
// temporary file.
func TestArtifactWriterCancel(t *testing.T) {
	dir := t.TempDir()
	spec := &ArtifactSpec{Name: "r", DeviceTypes: []string{"d"}}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := newPayloadWriter(ctx, dir, spec, payloadHeader(PayloadName, 4<<20), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := p.Write(make([]byte, 1<<20)); !errors.Is(err, context.Canceled) {
		t.Fatalf("write after cancel: %v", err)
	}
	if err := p.finish(""); !errors.Is(err, context.Canceled) {
		t.Fatalf("finish after cancel: %v", err)
	}
	p.remove()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left %v", left)
	}

	path := filepath.Join(dir, PayloadName)
	if err := os.WriteFile(path, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteArtifact(ctx, &out, spec, path, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteArtifact after cancel: %v", err)
	}
}
