package generator_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/lvm-um-gen/lvm-um-gen/generator/generatortest"
	"github.com/lvm-um-gen/lvm-um-gen/generator/internal/testkeys"
)

func TestGenerateArtifactReadsBack(t *testing.T) {
	f := newFixture(t)
	f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
	f.opts.ReportPath = filepath.Join(f.out, "report.json")
	f.opts.Artifact.SoftwareVersion = "2.0.1"
	f.opts.Artifact.Provides = map[string]string{"rootfs-image.build": "42"}
	f.opts.Artifact.Depends = map[string]string{"bootloader.version": "2024.01"}
	f.opts.Artifact.Scripts = []string{
		writeScript(t, f.dir, "ArtifactReboot_Leave_50"),
		writeScript(t, f.dir, "ArtifactInstall_Enter_10_prepare"),
		writeScript(t, f.dir, "ArtifactCommit_Enter_01"),
	}
	r := f.generate(t)
	f.assertOnly(t, "update.mender", "new.ext4", "report.json")

	rb := readArtifact(t, f.opts.OutputPath, nil)
	if rb.Name != "release-2" || !slices.Equal(rb.Devices, []string{"qemux86-64", "raspberrypi4"}) || rb.Type != "lvm-um" {
		t.Fatalf("name %q devices %q type %q", rb.Name, rb.Devices, rb.Type)
	}
	baseSum, imageSum := sha(t, f.base), sha(t, f.opts.ImageOut)
	wantProvides := map[string]string{"rootfs-image.version": "2.0.1", "rootfs-image.checksum": imageSum, "rootfs-image.build": "42"}
	if len(rb.Provides) != len(wantProvides) {
		t.Fatalf("provides %v", rb.Provides)
	}
	for k, v := range wantProvides {
		if rb.Provides[k] != v {
			t.Fatalf("provides %v, want %v", rb.Provides, wantProvides)
		}
	}
	if len(rb.Depends) != 2 || rb.Depends["rootfs-image.checksum"] != baseSum || rb.Depends["bootloader.version"] != "2024.01" {
		t.Fatalf("depends %v", rb.Depends)
	}
	if !slices.Equal(rb.Clears, []string{"rootfs-image.*"}) {
		t.Fatalf("clears %v", rb.Clears)
	}
	wantMeta := map[string]any{
		"predicted_cow_bytes": float64(r.PredictedCOWBytes), "write_unit_bytes": float64(generator.MiB),
		"chunk_bytes": float64(4096), "snapshot_bytes": float64(32 * generator.MiB), "reserve_bytes": float64(8 * generator.MiB),
		"base_sha256": baseSum, "image_bytes": float64(imageSize), "units_changed": float64(3), "chunks_changed": float64(514),
	}
	if _, ok := rb.Meta["lvm_um_manifest"].(string); !ok || len(rb.Meta) != len(wantMeta)+1 {
		t.Fatalf("meta-data %v", rb.Meta)
	}
	for k, v := range wantMeta {
		if rb.Meta[k] != v {
			t.Fatalf("meta-data %s = %v, want %v", k, rb.Meta[k], v)
		}
	}
	if r.PredictedCOWBytes != f.opts.Geometry.Model(0).COWBytes(514) {
		t.Fatalf("predicted %d", r.PredictedCOWBytes)
	}
	image, _ := os.ReadFile(f.opts.ImageOut)
	if len(rb.Payload) != 1 || !bytes.Equal(rb.Payload["rootfs"], image) {
		t.Fatalf("payload files %d; rootfs equal to --image-out: %v", len(rb.Payload), bytes.Equal(rb.Payload["rootfs"], image))
	}
	if want := []string{"ArtifactCommit_Enter_01", "ArtifactInstall_Enter_10_prepare", "ArtifactReboot_Leave_50"}; !slices.Equal(rb.Scripts, want) {
		t.Fatalf("scripts %q, want sorted %q", rb.Scripts, want)
	}

	// The report on disk is the returned one.
	var onDisk generator.Report
	data, _ := os.ReadFile(f.opts.ReportPath)
	if err := json.Unmarshal(data, &onDisk); err != nil {
		t.Fatal(err)
	}
	want, _ := generator.MarshalReport(r)
	if !bytes.Equal(data, want) || onDisk.ArtifactBytes == 0 || *onDisk.Fits != true || onDisk.ImageSHA256 != imageSum || onDisk.BaseSHA256 != baseSum {
		t.Fatalf("report:\n%s", data)
	}
	fi, _ := os.Stat(f.opts.OutputPath)
	if fi.Size() != onDisk.ArtifactBytes {
		t.Fatalf("artifact_bytes %d, file %d", onDisk.ArtifactBytes, fi.Size())
	}
	var sum bytes.Buffer
	if err := generator.WriteSummary(&sum, r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2 added, 3 changed, 1 removed, 40 unchanged", "3 of 7 changed", "headroom", "update.mender"} {
		if !strings.Contains(sum.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, sum.String())
		}
	}

	// The real CLI agrees.
	cli := ext4test.Tool(t, "mender-artifact")
	if out, err := exec.Command(cli, "validate", f.opts.OutputPath).CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact validate: %v\n%s", err, out)
	}
	out, err := exec.Command(cli, "read", f.opts.OutputPath).CombinedOutput()
	if err != nil {
		t.Fatalf("mender-artifact read: %v\n%s", err, out)
	}
	for _, s := range []string{`Name:\s+release-2`, `Type:\s+lvm-um\n`, `Provides:(\s+\S+: \S+)*\s+rootfs-image.checksum:\s+` + imageSum,
		`Depends:(\s+\S+: \S+)*\s+rootfs-image.checksum:\s+` + baseSum, `name:\s+rootfs\n`, `"predicted_cow_bytes": \d+`, `"lvm_um_manifest": "[A-Za-z0-9+/=]+"`} {
		if !regexp.MustCompile(s).Match(out) {
			t.Errorf("mender-artifact read lacks %q:\n%s", s, out)
		}
	}
}

func TestGenerateNoBaseChecksum(t *testing.T) {
	f := newFixture(t)
	f.opts.NoBaseChecksum = true
	f.generate(t)
	rb := readArtifact(t, f.opts.OutputPath, nil)
	if len(rb.Depends) != 0 {
		t.Fatalf("depends %v, want none", rb.Depends)
	}
	if rb.Provides["rootfs-image.version"] != "release-2" {
		t.Fatalf("software version defaults to the artifact name: %v", rb.Provides)
	}
}

func TestGenerateSigned(t *testing.T) {
	for _, kind := range []string{"rsa", "ecdsa"} {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t)
			priv, pub := testkeys.PEM(t, kind == "ecdsa")
			signer, err := generator.ParseSigningKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			f.opts.Artifact.Signer = signer
			f.generate(t)
			rb := readArtifact(t, f.opts.OutputPath, verifier(t, pub))
			if !rb.Signed {
				t.Fatal("not signed")
			}
			cli := ext4test.Tool(t, "mender-artifact")
			pubPath := filepath.Join(f.dir, "pub.pem")
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(cli, "validate", "-k", pubPath, f.opts.OutputPath).CombinedOutput(); err != nil {
				t.Fatalf("mender-artifact validate -k: %v\n%s", err, out)
			}
			// A different key must not verify.
			_, otherPub := testkeys.PEM(t, kind == "ecdsa")
			if err := os.WriteFile(pubPath, otherPub, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(cli, "validate", "-k", pubPath, f.opts.OutputPath).CombinedOutput(); err == nil {
				t.Fatalf("validated with the wrong key:\n%s", out)
			}
		})
	}
}

func TestParseSigningKeyRejects(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":  nil,
		"public": func() []byte { _, pub := testkeys.PEM(t, true); return pub }(),
		"junk":   []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
	} {
		if _, err := generator.ParseSigningKey(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestGenerateDeterministic runs the same release twice, in different
// directories, at different times, with inputs of different mtimes, and
// expects identical artifacts. Every compressor's first run comes first,
// then one pause into a new second, then each second run in its subtest.
func TestGenerateDeterministic(t *testing.T) {
	priv, _ := testkeys.PEM(t, true)
	comps := []string{"gzip", "zstd_fast", "none", "gzip-delta"}
	generateOnce := func(t *testing.T, comp string, run int) []byte {
		t.Helper()
		delta := strings.HasSuffix(comp, "-delta")
		comp = strings.TrimSuffix(comp, "-delta")
		f := newFixture(t)
		signer, err := generator.ParseSigningKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		f.opts.Artifact.Signer = signer
		f.opts.Artifact.Compression = comp
		f.opts.Delta = delta
		f.opts.Artifact.Scripts = []string{
			writeScript(t, f.dir, "ArtifactInstall_Enter_10"),
			writeScript(t, f.dir, "ArtifactInstall_Enter_20"),
			writeScript(t, f.dir, "ArtifactCommit_Leave_30"),
			writeScript(t, f.dir, "ArtifactFailure_Enter_40"),
		}
		touchAll(t, time.Unix(int64(1e9+run*12345), 0), append(f.opts.Artifact.Scripts, f.base)...)
		procs := runtime.GOMAXPROCS(0)
		if run == 0 { // parallel compressors must not depend on the CPU count
			procs = runtime.GOMAXPROCS(1)
		}
		f.generate(t)
		runtime.GOMAXPROCS(procs)
		data, err := os.ReadFile(f.opts.OutputPath)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	first := map[string][]byte{}
	for _, comp := range comps {
		first[comp] = generateOnce(t, comp, 0)
	}
	time.Sleep(1100 * time.Millisecond) // a new second for anything that reads the clock
	for _, comp := range comps {
		t.Run(comp, func(t *testing.T) {
			second := generateOnce(t, comp, 1)
			if !bytes.Equal(first[comp], second) {
				t.Fatalf("two runs differ (%d and %d bytes)", len(first[comp]), len(second))
			}
		})
	}
}

// TestGenerateEveryCompression reads back an artifact of each compressor
// mender-artifact offers, with the library and the CLI.
func TestGenerateEveryCompression(t *testing.T) {
	for _, comp := range []string{"none", "gzip", "zstd_fastest", "zstd_fast", "zstd_better", "zstd_best", "lzma"} {
		t.Run(comp, func(t *testing.T) {
			f := newFixture(t)
			f.opts.Artifact.Compression = comp
			f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
			if comp == "lzma" { // pure-Go lzma takes ~6 s/MiB of random data
				generatortest.WriteBase(t, f.base, 256*generator.KiB)
				f.fake.Offsets = []int64{100}
			}
			f.generate(t)
			rb := readArtifact(t, f.opts.OutputPath, nil)
			image, _ := os.ReadFile(f.opts.ImageOut)
			if !bytes.Equal(rb.Payload["rootfs"], image) {
				t.Fatal("payload differs from the image")
			}
			// Debian's mender-artifact 3.9 predates zstd; the library reads it.
			if !strings.HasPrefix(comp, "zstd") && ext4test.HaveTools(t, "mender-artifact") {
				if out, err := exec.Command("mender-artifact", "validate", f.opts.OutputPath).CombinedOutput(); err != nil {
					t.Fatalf("mender-artifact validate: %v\n%s", err, out)
				}
			}
		})
	}
}
