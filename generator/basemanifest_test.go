package generator_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"

	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
)

// chunkSums hashes a file chunk by chunk with coreutils, an implementation
// independent of ours: split cuts it into 4 KiB files, sha256sum hashes
// them. It returns the first 16 hex digits of each chunk's SHA-256.
func chunkSums(t *testing.T, path string) []string {
	t.Helper()
	ext4test.RequireTools(t, "split", "sha256sum")
	dir := t.TempDir()
	if out, err := exec.Command("split", "-b", "4096", "-d", "-a", "8", path, filepath.Join(dir, "c")).CombinedOutput(); err != nil {
		t.Fatalf("split: %v\n%s", err, out)
	}
	names, err := filepath.Glob(filepath.Join(dir, "c*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("split made no chunks: %v", err)
	}
	out, err := exec.Command("sha256sum", names...).Output()
	if err != nil {
		t.Fatalf("sha256sum: %v", err)
	}
	var sums []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		sums = append(sums, line[:16])
	}
	return sums
}

// TestArtifactManifest: the artifact's meta-data carries the base
// manifest; every base chunk hash in it agrees with coreutils' sha256sum
// of that chunk, the changed chunks are exactly those whose sha256sum
// differs in the new image, with its hashes, and the cost the device will
// compute from it is the predicted COW.
func TestArtifactManifest(t *testing.T) {
	f := newFixture(t)
	f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
	r := f.generate(t)
	rb := readArtifact(t, f.opts.OutputPath, nil)
	meta, err := json.Marshal(rb.Meta)
	if err != nil {
		t.Fatal(err)
	}
	man, err := manifest.ParseMetaData(meta, imageSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := man.CheckBase(rb.Depends["rootfs-image.checksum"].(string)); err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(man.ImageSHA256[:]) != rb.Provides["rootfs-image.checksum"] || man.ImageBytes != imageSize ||
		man.ChunkBytes != 4096 || man.WriteUnitBytes != f.opts.Geometry.WriteUnit {
		t.Fatalf("manifest header %+v", man)
	}
	if int64(len(rb.Meta[manifest.MetaKey].(string))) != r.ManifestBytes {
		t.Fatalf("report manifest_bytes %d, meta-data holds %d", r.ManifestBytes, len(rb.Meta[manifest.MetaKey].(string)))
	}

	baseSums, newSums := chunkSums(t, f.base), chunkSums(t, f.opts.ImageOut)
	if len(baseSums) != len(man.Base) {
		t.Fatalf("%d base hashes, sha256sum hashed %d chunks", len(man.Base), len(baseSums))
	}
	var want []string
	for i := range baseSums {
		if man.Base[i].String() != baseSums[i] {
			t.Fatalf("chunk %d: manifest %s, sha256sum %s", i, man.Base[i], baseSums[i])
		}
		if baseSums[i] != newSums[i] {
			want = append(want, fmt.Sprintf("%d:%s", i, newSums[i]))
		}
	}
	var got []string
	for _, c := range man.Changed {
		got = append(got, fmt.Sprintf("%d:%s", c.Index, c.Hash))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("changed chunks\n%v\nsha256sum says\n%v", got, want)
	}

	rel, err := man.ReleaseCost()
	if err != nil {
		t.Fatal(err)
	}
	undrifted, err := man.CostOn(man.Base, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rel.COWBytes != r.PredictedCOWBytes || undrifted.Result.COWBytes != r.PredictedCOWBytes {
		t.Fatalf("predicted %d; from the manifest %d, on an undrifted device %d", r.PredictedCOWBytes, rel.COWBytes, undrifted.Result.COWBytes)
	}
	// The encoding stays well inside 2 MiB per GiB of image.
	if budget := imageSize * 2 / 1024; r.ManifestBytes > budget {
		t.Fatalf("manifest of %d bytes for a %d-byte image: over the %d budget", r.ManifestBytes, int64(imageSize), budget)
	}
}
