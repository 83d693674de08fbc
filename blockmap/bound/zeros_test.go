package bound

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBaseScanZeros: taking runs of zeros with Zeros, at any alignment,
// finds the hashes Window finds when it reads those zeros.
func TestBaseScanZeros(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bs := range []int64{1024, 4096} {
		for trial := range 50 {
			var img []byte
			var pieces [][2]int64 // offset, length; negative length: zeros
			for range 1 + rng.IntN(12) {
				n := int64(rng.IntN(int(3 * bs)))
				if rng.IntN(2) == 0 {
					pieces = append(pieces, [2]int64{int64(len(img)), -n})
					img = append(img, make([]byte, n)...)
					continue
				}
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(rng.IntN(3)) // zeros inside data too
				}
				pieces = append(pieces, [2]int64{int64(len(img)), n})
				img = append(img, b...)
			}
			dense, _ := NewBaseScan(bs)
			dense.Window(img)
			want, err := dense.Finish()
			if err != nil {
				t.Fatal(err)
			}
			sparse, _ := NewBaseScan(bs)
			for _, p := range pieces {
				if p[1] < 0 {
					sparse.Zeros(-p[1])
				} else {
					sparse.Window(img[p[0] : p[0]+p[1]])
				}
			}
			got, err := sparse.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if got.Size() != want.Size() || !slices.Equal(got.hashes, want.hashes) {
				t.Fatalf("bs %d trial %d: size %d hashes %d, want size %d hashes %d", bs, trial, got.Size(), len(got.hashes), want.Size(), len(want.hashes))
			}
		}
	}
}
