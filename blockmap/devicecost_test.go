package blockmap

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// chunkPlan hashes base and new the way the generator does: every chunk
// of the base, and the chunks whose bytes differ with their new hashes.
func chunkPlan(base, next []byte, chunk int) ([]ChunkHash, []ChangedChunk) {
	baseSums := perChunk(base, chunk)
	var changed []ChangedChunk
	for i := 0; i*chunk < len(base); i++ {
		end := min((i+1)*chunk, len(base))
		if !bytes.Equal(base[i*chunk:end], next[i*chunk:end]) {
			changed = append(changed, ChangedChunk{Index: int64(i), Hash: HashChunk(next[i*chunk : end])})
		}
	}
	return baseSums, changed
}

// scribble overwrites n random spans of up to maxLen bytes of img.
func scribble(img []byte, r *rand.Rand, n, maxLen int) {
	for range n {
		off := r.IntN(len(img))
		for k := off; k < min(len(img), off+1+r.IntN(maxLen)); k++ {
			img[k] = byte(r.Uint32())
		}
	}
}

// TestCostOnDeviceIsTheByteDiff: for any write unit, the cost from chunk
// hashes equals blockmap.Diff of the bytes: the release's cost equals the
// diff of base and new (what the generator measures), and a drifted
// device's cost equals the diff of the device's bytes and new (what the
// kernel will count).
func TestCostOnDeviceIsTheByteDiff(t *testing.T) {
	const chunk = 4096
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		size := chunk*(50+r.IntN(300)) + []int{0, 1024, 3000}[trial%3]
		base := randomImage(uint64(trial), size)
		next := bytes.Clone(base)
		scribble(next, r, 1+r.IntN(20), 9000)
		device := bytes.Clone(base)
		scribble(device, r, r.IntN(6), 200)
		baseSums, changed := chunkPlan(base, next, chunk)
		deviceSums := perChunk(device, chunk)
		for _, w := range []int64{512, 4096, 16384, 1 << 20} {
			m := Model{WriteUnit: w, Chunk: chunk, ImageSize: int64(size)}
			rel, err := m.ReleaseCost(baseSums, changed)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := Diff(bytes.NewReader(base), bytes.NewReader(next), int64(size), m)
			if err != nil {
				t.Fatal(err)
			}
			if rel.COWBytes != want.COWBytes || rel.ChunksWritten != want.ChunksWritten {
				t.Fatalf("trial %d W=%d: release cost %v, diff %v", trial, w, rel, want)
			}
			if w >= chunk && rel != want {
				t.Fatalf("trial %d W=%d: release cost %+v, diff %+v", trial, w, rel, want)
			}
			undrifted, err := m.CostOnDevice(baseSums, changed, baseSums)
			if err != nil {
				t.Fatal(err)
			}
			if undrifted.Result != rel || undrifted.Release != rel || undrifted.DriftedChunks != 0 || undrifted.DriftCOWBytes != 0 {
				t.Fatalf("trial %d W=%d: undrifted device %+v, release %+v", trial, w, undrifted, rel)
			}
			dc, err := m.CostOnDevice(baseSums, changed, deviceSums)
			if err != nil {
				t.Fatal(err)
			}
			onDevice, _, err := Diff(bytes.NewReader(device), bytes.NewReader(next), int64(size), m)
			if err != nil {
				t.Fatal(err)
			}
			if dc.Result.COWBytes != onDevice.COWBytes || dc.Release != rel || dc.DriftCOWBytes != dc.Result.COWBytes-rel.COWBytes {
				t.Fatalf("trial %d W=%d: device cost %+v, byte diff %+v", trial, w, dc, onDevice)
			}
			drift, _, _ := Diff(bytes.NewReader(base), bytes.NewReader(device), int64(size), Model{WriteUnit: chunk, Chunk: chunk, ImageSize: int64(size)})
			if dc.DriftedChunks != drift.ChunksWritten {
				t.Fatalf("trial %d: %d drifted chunks, the bytes differ in %d", trial, dc.DriftedChunks, drift.ChunksWritten)
			}
			for _, c := range dc.DriftedUnchanged {
				for _, ch := range changed {
					if ch.Index == c {
						t.Fatalf("chunk %d is changed by the release but listed as drifted unchanged", c)
					}
				}
			}
		}
	}
}

func TestCostOnDeviceRefusesMismatch(t *testing.T) {
	m := Model{WriteUnit: 4096, Chunk: 4096, ImageSize: 3 * 4096}
	base := []ChunkHash{1, 2, 3}
	for name, c := range map[string]struct {
		base    []ChunkHash
		changed []ChangedChunk
		device  []ChunkHash
	}{
		"short base":   {base[:2], nil, base},
		"short device": {base, nil, base[:1]},
		"out of range": {base, []ChangedChunk{{Index: 3}}, base},
		"negative":     {base, []ChangedChunk{{Index: -1}}, base},
		"unsorted":     {base, []ChangedChunk{{Index: 2}, {Index: 1}}, base},
		"duplicate":    {base, []ChangedChunk{{Index: 1}, {Index: 1}}, base},
		"nil device":   {base, nil, nil},
	} {
		if _, err := m.CostOnDevice(c.base, c.changed, c.device); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := (Model{WriteUnit: 4096, Chunk: 100, ImageSize: 4096}).ReleaseCost(nil, nil); err == nil {
		t.Error("invalid model accepted")
	}
}
