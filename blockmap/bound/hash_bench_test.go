package bound

import "testing"

// BenchmarkBlockHash hashes one 4 KiB block of varied bytes.
func BenchmarkBlockHash(b *testing.B) {
	blk := make([]byte, 4096)
	for i := range blk {
		blk[i] = byte(i*7 + i>>8)
	}
	b.SetBytes(int64(len(blk)))
	for b.Loop() {
		blockHash(blk)
	}
}

// BenchmarkAllZero checks one 4 KiB block of zeros.
func BenchmarkAllZero(b *testing.B) {
	blk := make([]byte, 4096)
	b.SetBytes(int64(len(blk)))
	for b.Loop() {
		allZero(blk)
	}
}
