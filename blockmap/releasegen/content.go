package releasegen

import (
	"math/rand/v2"
)

// rng is a deterministic generator for one purpose (a file's content, a
// release's choices), derived from the config seed and a label so that
// changing one part of a tree does not reshuffle every other part.
func rng(seed uint64, label string) *rand.Rand {
	h := uint64(14695981039346656037)
	for i := 0; i < len(label); i++ {
		h ^= uint64(label[i])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(seed, h))
}

// binary returns size bytes that look like compiled code: mostly
// high-entropy instruction bytes with runs of zeros and repeated tables, so
// it compresses about as well as real ELF files (~2-3x).
func binary(r *rand.Rand, size int) []byte {
	b := make([]byte, size)
	for i := 0; i < size; {
		run := 16 + r.IntN(240)
		if i+run > size {
			run = size - i
		}
		switch r.IntN(10) {
		case 0: // zero padding
		case 1, 2: // a repeated small table
			pat := byte(r.IntN(256))
			for j := 0; j < run; j++ {
				b[i+j] = pat + byte(j%7)
			}
		case 4, 5: // a sequence seen earlier (prologues, inlined helpers)
			if i > run {
				from := r.IntN(i - run)
				copy(b[i:i+run], b[from:from+run])
				break
			}
			fallthrough
		case 3: // immediates and addresses
			for j := 0; j < run; j++ {
				b[i+j] = byte(r.Uint32())
			}
		default: // instructions: a skewed alphabet, like real machine code
			for j := 0; j < run; j++ {
				b[i+j] = opcodes[r.IntN(len(opcodes))]
			}
		}
		i += run
	}
	return b
}

// opcodes are frequent x86-64 instruction bytes; code drawn from them has
// roughly the entropy of real .text sections.
var opcodes = []byte{
	0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x85, 0x84, 0x74, 0x75, 0xc3, 0x31, 0xc0,
	0x83, 0xc4, 0xec, 0x24, 0x44, 0x45, 0x4c, 0x8d, 0x05, 0x15, 0x41, 0x5c,
	0x5d, 0x55, 0x53, 0x39, 0xff, 0x00, 0x01, 0x10, 0x20, 0x08, 0x18, 0x28,
}

var words = []string{
	"the", "system", "config", "value", "service", "network", "device", "update",
	"kernel", "module", "library", "version", "default", "enable", "disable",
	"path", "user", "group", "daemon", "socket", "timeout", "retry", "log",
	"level", "debug", "info", "warning", "error", "file", "directory", "mount",
	"option", "feature", "support", "release", "build", "image", "rootfs",
}

// text returns size bytes of word-salad text with newlines: config files,
// docs and scripts.
func text(r *rand.Rand, size int) []byte {
	b := make([]byte, 0, size+16)
	col := 0
	for len(b) < size {
		w := words[r.IntN(len(words))]
		b = append(b, w...)
		col += len(w)
		if col > 60+r.IntN(20) {
			b = append(b, '\n')
			col = 0
		} else {
			b = append(b, ' ')
			col++
		}
	}
	return b[:size]
}

// patchBinary models a recompile of a binary: a few scattered regions
// change (relocated addresses, a changed function) and the size moves by a
// little.
func patchBinary(r *rand.Rand, old []byte) []byte {
	size := len(old) + r.IntN(len(old)/50+64) - len(old)/100
	if size < 64 {
		size = 64
	}
	b := make([]byte, size)
	copy(b, old)
	if size > len(old) {
		copy(b[len(old):], binary(r, size-len(old)))
	}
	regions := 1 + r.IntN(6)
	for k := 0; k < regions; k++ {
		off := r.IntN(size)
		n := 8 + r.IntN(2048)
		if off+n > size {
			n = size - off
		}
		copy(b[off:], binary(r, n))
	}
	return b
}
