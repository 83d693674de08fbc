package generator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
	"github.com/lvm-um-gen/lvm-um-gen/generator/sparse"
)

// writerAt is an in-memory image.
type writerAt []byte

func (w writerAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(w)) {
		return 0, errors.New("write outside the image")
	}
	return copy(w[off:], p), nil
}

type countingWriterAt struct{ n int64 }

func (c *countingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// TestGenerateDelta: --delta writes an lvm-um-delta artifact that depends
// on the base and provides the new image's checksum; its one payload file,
// rootfs.simg, expanded over a copy of the base by our reader (checked
// against the manifest chunk by chunk, as the device does) is the new
// image byte for byte, and simg2img, an independent reader, finds the new
// image's bytes at exactly the changed chunks. mender-artifact validates
// and reads it.
func TestGenerateDelta(t *testing.T) {
	f := newFixture(t)
	f.opts.Delta = true
	f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
	f.opts.ReportPath = filepath.Join(f.out, "report.json")
	r := f.generate(t)
	f.assertOnly(t, "update.mender", "new.ext4", "report.json")
	rb := readArtifact(t, f.opts.OutputPath, nil)
	baseSum, imageSum := sha(t, f.base), sha(t, f.opts.ImageOut)
	if rb.Type != "lvm-um-delta" || rb.Depends["rootfs-image.checksum"] != baseSum || rb.Provides["rootfs-image.checksum"] != imageSum ||
		rb.Provides["rootfs-image.version"] != "release-2" || len(rb.Payload) != 1 {
		t.Fatalf("type %q depends %v provides %v payload files %d", rb.Type, rb.Depends, rb.Provides, len(rb.Payload))
	}
	payload, ok := rb.Payload["rootfs.simg"]
	if !ok {
		t.Fatalf("payload files %v, want rootfs.simg", rb.Payload)
	}
	if r.PayloadType != "lvm-um-delta" || r.PayloadBytes != int64(len(payload)) {
		t.Fatalf("report payload %s %d, artifact holds %d bytes", r.PayloadType, r.PayloadBytes, len(payload))
	}
	meta, _ := json.Marshal(rb.Meta)
	man, err := manifest.ParseMetaData(meta, imageSize)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(payload)) > (int64(len(man.Changed))+8)*4096 {
		t.Fatalf("payload of %d bytes for %d changed chunks", len(payload), len(man.Changed))
	}

	// Our reader, over a copy of the base, checking every data chunk
	// against the manifest.
	base, _ := os.ReadFile(f.base)
	got := writerAt(bytes.Clone(base))
	h, err := sparse.Expand(bytes.NewReader(payload), got, func(h sparse.Header, c sparse.Chunk) error {
		if c.Type == sparse.DontCare {
			return nil
		}
		return man.CheckDeltaRange(c.Block*int64(h.BlockSize), c.Blocks*int64(h.BlockSize))
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(got); h.ImageBytes() != imageSize || hex.EncodeToString(sum[:]) != imageSum {
		t.Fatalf("expanded over the base: %d bytes, sha256 %x, want %s", h.ImageBytes(), sum, imageSum)
	}

	// A manifest that does not list the delta's first changed chunk (one
	// for another release) makes the reader stop before it writes a byte.
	other := *man
	other.Changed = man.Changed[1:]
	counting := &countingWriterAt{}
	_, err = sparse.Expand(bytes.NewReader(payload), counting, func(h sparse.Header, c sparse.Chunk) error {
		if c.Type == sparse.DontCare {
			return nil
		}
		return other.CheckDeltaRange(c.Block*int64(h.BlockSize), c.Blocks*int64(h.BlockSize))
	})
	if !errors.Is(err, manifest.ErrInvalid) || counting.n != 0 {
		t.Fatalf("delta against a manifest that lacks its chunk: %v after %d bytes written", err, counting.n)
	}

	// simg2img: the new image's bytes at the changed chunks, zeros
	// elsewhere; laid over the base at those chunks, the new image.
	ext4test.RequireTools(t, "simg2img")
	simg, expanded := filepath.Join(f.dir, "delta.simg"), filepath.Join(f.dir, "expanded.img")
	if err := os.WriteFile(simg, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("simg2img", simg, expanded).CombinedOutput(); err != nil {
		t.Fatalf("simg2img: %v\n%s", err, out)
	}
	theirs, _ := os.ReadFile(expanded)
	image, _ := os.ReadFile(f.opts.ImageOut)
	if len(theirs) != len(image) {
		t.Fatalf("simg2img wrote %d bytes, the image is %d", len(theirs), len(image))
	}
	rebuilt := bytes.Clone(base)
	for i := int64(0); i < man.Chunks(); i++ {
		span := theirs[i*4096 : min((i+1)*4096, int64(len(theirs)))]
		if man.IsChanged(i) {
			if !bytes.Equal(span, image[i*4096:i*4096+int64(len(span))]) {
				t.Fatalf("chunk %d: simg2img's bytes are not the new image's", i)
			}
			copy(rebuilt[i*4096:], span)
		} else if !bytes.Equal(span, make([]byte, len(span))) {
			t.Fatalf("chunk %d is unchanged but simg2img wrote data there", i)
		}
	}
	if sum := sha256.Sum256(rebuilt); hex.EncodeToString(sum[:]) != imageSum {
		t.Fatal("the base with simg2img's changed chunks is not the new image")
	}

	// The real CLI.
	cli := ext4test.Tool(t, "mender-artifact")
	if out, err := exec.Command(cli, "validate", f.opts.OutputPath).CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact validate: %v\n%s", err, out)
	}
	out, err := exec.Command(cli, "read", f.opts.OutputPath).CombinedOutput()
	if err != nil {
		t.Fatalf("mender-artifact read: %v\n%s", err, out)
	}
	for _, s := range []string{`Type:\s+lvm-um-delta`, `Depends:\s+rootfs-image.checksum:\s+` + baseSum, `Provides:(\s+\S+: \S+)*\s+rootfs-image.checksum:\s+` + imageSum,
		`name:\s+rootfs.simg`, `"lvm_um_manifest": "`} {
		if !regexp.MustCompile(s).Match(out) {
			t.Errorf("mender-artifact read lacks %q:\n%.3000s", s, out)

		}
	}
}

// TestGenerateDeltaNeedsBaseChecksum: a delta without the dependency on
// its base could be applied over another image; it is refused as bad
// usage before anything is built.
func TestGenerateDeltaNeedsBaseChecksum(t *testing.T) {
	f := newFixture(t)
	f.opts.Delta = true
	f.opts.NoBaseChecksum = true
	_, err := generator.Generate(t.Context(), f.fake, f.opts)
	var ie *generator.InputError
	if !errors.As(err, &ie) || ie.Input != "--delta" || f.fake.Calls != 0 {
		t.Fatalf("got %v after %d builds, want an InputError for --delta before building", err, f.fake.Calls)
	}
	f.assertOnly(t)
}
