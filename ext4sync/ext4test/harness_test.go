package ext4test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captureTB records Errorf calls instead of failing the test.
type captureTB struct {
	testing.TB
	msgs []string
}

func (c *captureTB) Helper() {}
func (c *captureTB) Errorf(format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

func genSrc(t *testing.T, seed uint64, o GenOptions) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := GenTree(rand.New(rand.NewPCG(seed, 1)), dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mkfs -d output must satisfy every judge, at every block size and
// without 64bit, before and after a random release.
func TestCheckImageOnMkfsOutput(t *testing.T) {
	t.Parallel()
	RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	cases := []struct {
		name string
		o    ImageOptions
		big  int
		tgt  int
	}{
		{"4k", ImageOptions{BlockSize: 4096}, 3000, 0},
		{"1k", ImageOptions{BlockSize: 1024}, 0, 1000},
		{"4k-no64bit", ImageOptions{BlockSize: 4096, No64bit: true}, 0, 0},
		// Block-mapped files (no extents): debugfs prints BLOCKS:, not EXTENTS:.
		{"1k-blockmap", ImageOptions{BlockSize: 1024, No64bit: true, Features: []string{"^extent"}}, 0, 1000},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := DefaultGenOptions()
			o.BigDir = c.big
			o.MaxTarget = c.tgt
			src := genSrc(t, uint64(100+i), o)
			img := BuildImage(t, src, c.o)
			CheckImageWith(t, img, src, MkfsCheckOptions())
			ops, err := Mutate(rand.New(rand.NewPCG(uint64(200+i), 2)), src, MutateOptions{Ops: 40, MaxTarget: c.tgt})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("release: %d ops", len(ops))
			img2 := BuildImage(t, src, c.o)
			CheckImageWith(t, img2, src, MkfsCheckOptions())
		})
	}
}

// GenTree and Mutate depend only on the seed.
func TestGenDeterministic(t *testing.T) {
	t.Parallel()
	var snaps []*Snapshot
	var ops [][]string
	for i := 0; i < 2; i++ {
		o := DefaultGenOptions()
		o.BigDir = 200
		src := genSrc(t, 7, o)
		d, err := Mutate(rand.New(rand.NewPCG(8, 9)), src, MutateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, d)
		snaps = append(snaps, SnapshotDir(t, src))
	}
	if strings.Join(ops[0], "\n") != strings.Join(ops[1], "\n") {
		t.Errorf("Mutate ops differ:\n%v\n%v", ops[0], ops[1])
	}
	Compare(t, snaps[0], snaps[1], CompareOptions{})
	if len(ops[0]) != defaultMutateOps {
		t.Errorf("Mutate did %d ops, want %d", len(ops[0]), defaultMutateOps)
	}
}

// With NormalizeTimes, the same source gives the same image bytes.
func TestBuildImageReproducible(t *testing.T) {
	t.Parallel()
	RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	src := genSrc(t, 3, DefaultGenOptions())
	o := ImageOptions{NormalizeTimes: true, Size: 32 << 20}
	a, b := BuildImage(t, src, o), BuildImage(t, src, o)
	if ha, hb := fileSHA(t, a), fileSHA(t, b); ha != hb {
		t.Errorf("images differ: %s vs %s", ha, hb)
	}
	s := SnapshotImage(t, a)
	Compare(t, SnapshotDir(t, src), s, CompareOptions{LostFound: true, Ignore: FieldMtimeNs,
		IgnoreAt: map[string]Field{"": FieldMtime}, Times: TimesEqualMtime})
}

func fileSHA(t *testing.T, p string) string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// The engine's time policy is really checked: plain mkfs output (ctime
// from the source, crtime = fake time) must fail it.
func TestTimePolicyCatchesMkfsTimes(t *testing.T) {
	RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	src := genSrc(t, 4, GenOptions{Dirs: 3, Files: 10, MaxSize: 1000})
	img := BuildImage(t, src, ImageOptions{Size: 8 << 20})
	o := CompareOptions{LostFound: true, Ignore: FieldMtimeNs, IgnoreAt: map[string]Field{"": FieldMtime},
		Times: TimesEqualMtime}
	d := Diff(SnapshotDir(t, src), SnapshotImage(t, img), o)
	var ctime, crtime int
	for _, l := range d {
		if strings.Contains(l, ": ctime: ") {
			ctime++
		}
		if strings.Contains(l, ": crtime: ") {
			crtime++
		}
	}
	if ctime == 0 || crtime == 0 {
		t.Errorf("TimesEqualMtime missed mkfs's ctime/crtime: %q", d)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if p, e := EngineTimePolicy(); p != TimesEqualEpoch || e != 1700000000 {
		t.Errorf("EngineTimePolicy = %v, %d", p, e)
	}
}
