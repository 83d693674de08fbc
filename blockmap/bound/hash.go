package bound

import (
	"encoding/binary"
	"math/bits"
)

// Multipliers of blockHash (odd 64-bit constants with well-mixed bits).
const (
	hashK1 = 0x9E3779B185EBCA87
	hashK2 = 0xC2B2AE3D27D4EB4F
)

// blockHash is a fast 64-bit hash of a block, the same on every run. The
// bound takes blocks with equal hashes to be equal: a collision can only
// make it lower, never wrong.
func blockHash(b []byte) uint64 {
	h := uint64(len(b)) * hashK1
	for ; len(b) >= 8; b = b[8:] {
		h ^= bits.RotateLeft64(binary.LittleEndian.Uint64(b)*hashK2, 31) * hashK1
		h = bits.RotateLeft64(h, 27)*hashK1 + hashK2
	}
	for _, c := range b {
		h ^= uint64(c) * hashK1
		h = bits.RotateLeft64(h, 11) * hashK2
	}
	h ^= h >> 33
	h *= hashK2
	h ^= h >> 29
	return h
}
