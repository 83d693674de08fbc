package generator

import "testing"

// TestSparseBlockSize: 4 KiB blocks when the image allows, a smaller power
// of two when its size is not a whole number of 4 KiB, and a refusal when
// it is not a whole number of 4-byte words.
func TestSparseBlockSize(t *testing.T) {
	for size, want := range map[int64]uint32{0: 4096, 450 << 20: 4096, 1025 * 1024: 1024, 4096 + 512: 512, 12: 4} {
		if got, err := sparseBlockSize(size); err != nil || got != want {
			t.Errorf("sparseBlockSize(%d) = %d, %v; want %d", size, got, err, want)
		}
	}
	for _, size := range []int64{1, 6, 4098} {
		if _, err := sparseBlockSize(size); err == nil {
			t.Errorf("sparseBlockSize(%d) accepted", size)
		}
	}
}
