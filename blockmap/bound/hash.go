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
//
// Every block of the base goes through it, so it takes 32 bytes a step
// in four independent lanes (the processor works on them at once), then
// mixes the lanes and the tail together.
func blockHash(b []byte) uint64 {
	h := uint64(len(b)) * hashK1
	if len(b) >= 32 {
		l0, l1, l2, l3 := h+hashK1+hashK2, h+hashK2, h, h-hashK1
		for ; len(b) >= 32; b = b[32:] {
			l0 = lane(l0, binary.LittleEndian.Uint64(b))
			l1 = lane(l1, binary.LittleEndian.Uint64(b[8:]))
			l2 = lane(l2, binary.LittleEndian.Uint64(b[16:]))
			l3 = lane(l3, binary.LittleEndian.Uint64(b[24:]))
		}
		h = bits.RotateLeft64(l0, 1) + bits.RotateLeft64(l1, 7) + bits.RotateLeft64(l2, 12) + bits.RotateLeft64(l3, 18)
		for _, l := range [4]uint64{l0, l1, l2, l3} {
			h = (h^lane(0, l))*hashK1 + hashK2
		}
	}
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

// lane takes the next 8 bytes x into one lane of blockHash.
func lane(acc, x uint64) uint64 {
	return bits.RotateLeft64(acc+x*hashK2, 31) * hashK1
}
