package dir

import (
	"fmt"
	"math/bits"
)

// Hash versions as stored in dx_root_info.hash_version and s_def_hash_version.
// The unsigned variants are never stored in a dx_root; they are selected by
// the superblock's unsigned-hash flag.
const (
	HashLegacy           uint8 = 0
	HashHalfMD4          uint8 = 1
	HashTea              uint8 = 2
	HashLegacyUnsigned   uint8 = 3
	HashHalfMD4Unsigned  uint8 = 4
	HashTeaUnsigned      uint8 = 5
	hashSiphash          uint8 = 6 // casefolded+encrypted dirs only; unsupported
	unsignedHashDistance       = HashLegacyUnsigned - HashLegacy
)

// htreeEOF32 is the 32-bit readdir end-of-directory cookie; no name may hash
// to it (EXT4_HTREE_EOF_32BIT << 1).
const htreeEOF32 uint32 = 0x7fffffff

// defaultHashSeed is used when the superblock's s_hash_seed is all zero.
var defaultHashSeed = [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}

const (
	legacyHash0    uint32 = 0x12a3fe2d
	legacyHash1    uint32 = 0x37abe8f9
	legacyMult     uint32 = 7152373
	legacyWrap     uint32 = 0x7fffffff
	md4K2          uint32 = 0x5A827999
	md4K3          uint32 = 0x6ED9EBA1
	teaDelta       uint32 = 0x9E3779B9
	teaRounds             = 16
	md4ChunkBytes         = 32
	teaChunkBytes         = 16
	md4ChunkWords         = 8
	teaChunkWords         = 4
	hashSignBitMsk uint32 = 0x80000000
)

// Hash is the htree hash of a name: Major orders the index (its low bit is
// always clear; the index uses that bit as the collision flag), Minor breaks
// ties for readdir cookies.
type Hash struct {
	Major, Minor uint32
}

// NameHash computes the directory hash of name with hash version v (0..5)
// and the superblock's hash seed, as the kernel's ext4fs_dirhash does.
func NameHash(v uint8, seed [4]uint32, name []byte) (Hash, error) {
	buf := defaultHashSeed
	if seed != [4]uint32{} {
		buf = seed
	}
	var h Hash
	switch v {
	case HashLegacy, HashLegacyUnsigned:
		h.Major = legacyHash(name, v == HashLegacyUnsigned)
	case HashHalfMD4, HashHalfMD4Unsigned:
		var in [md4ChunkWords]uint32
		for p := name; len(p) > 0; {
			strToHashBuf(p, in[:], v == HashHalfMD4Unsigned)
			halfMD4(&buf, &in)
			if len(p) <= md4ChunkBytes {
				break
			}
			p = p[md4ChunkBytes:]
		}
		h.Major, h.Minor = buf[1], buf[2]
	case HashTea, HashTeaUnsigned:
		var in [teaChunkWords]uint32
		for p := name; len(p) > 0; {
			strToHashBuf(p, in[:], v == HashTeaUnsigned)
			teaTransform(&buf, &in)
			if len(p) <= teaChunkBytes {
				break
			}
			p = p[teaChunkBytes:]
		}
		h.Major, h.Minor = buf[0], buf[1]
	default:
		return Hash{}, fmt.Errorf("dir: unsupported hash version %d", v)
	}
	h.Major &^= 1
	if h.Major == htreeEOF32<<1 {
		h.Major = (htreeEOF32 - 1) << 1
	}
	return h, nil
}

// byteValue widens a name byte the way the C code does for a signed or an
// unsigned char.
func byteValue(b byte, unsigned bool) uint32 {
	if unsigned {
		return uint32(b)
	}
	return uint32(int32(int8(b)))
}

func legacyHash(name []byte, unsigned bool) uint32 {
	h0, h1 := legacyHash0, legacyHash1
	for _, c := range name {
		h := h1 + (h0 ^ byteValue(c, unsigned)*legacyMult)
		if h&hashSignBitMsk != 0 {
			h -= legacyWrap
		}
		h1, h0 = h0, h
	}
	return h0 << 1
}

// strToHashBuf packs up to 4*len(out) bytes of msg into out, big-endian-ish
// as str2hashbuf does, padding with a word derived from the remaining length.
func strToHashBuf(msg []byte, out []uint32, unsigned bool) {
	n := uint32(len(msg))
	pad := n | n<<8
	pad |= pad << 16
	if len(msg) > len(out)*4 {
		msg = msg[:len(out)*4]
	}
	val := pad
	w := 0
	for i, c := range msg {
		val = byteValue(c, unsigned) + val<<8
		if i%4 == 3 {
			out[w] = val
			w++
			val = pad
		}
	}
	if w < len(out) {
		out[w] = val
		w++
	}
	for ; w < len(out); w++ {
		out[w] = pad
	}
}

func md4F(x, y, z uint32) uint32 { return z ^ (x & (y ^ z)) }
func md4G(x, y, z uint32) uint32 { return (x & y) + ((x ^ y) & z) }
func md4H(x, y, z uint32) uint32 { return x ^ y ^ z }

// halfMD4 is the reduced-round MD4 transform of the kernel's hash.c.
func halfMD4(buf *[4]uint32, in *[md4ChunkWords]uint32) {
	a, b, c, d := buf[0], buf[1], buf[2], buf[3]
	r := func(f func(x, y, z uint32) uint32, a, b, c, d, x uint32, s int) uint32 {
		return bits.RotateLeft32(a+f(b, c, d)+x, s)
	}
	// Round 1
	a = r(md4F, a, b, c, d, in[0], 3)
	d = r(md4F, d, a, b, c, in[1], 7)
	c = r(md4F, c, d, a, b, in[2], 11)
	b = r(md4F, b, c, d, a, in[3], 19)
	a = r(md4F, a, b, c, d, in[4], 3)
	d = r(md4F, d, a, b, c, in[5], 7)
	c = r(md4F, c, d, a, b, in[6], 11)
	b = r(md4F, b, c, d, a, in[7], 19)
	// Round 2
	a = r(md4G, a, b, c, d, in[1]+md4K2, 3)
	d = r(md4G, d, a, b, c, in[3]+md4K2, 5)
	c = r(md4G, c, d, a, b, in[5]+md4K2, 9)
	b = r(md4G, b, c, d, a, in[7]+md4K2, 13)
	a = r(md4G, a, b, c, d, in[0]+md4K2, 3)
	d = r(md4G, d, a, b, c, in[2]+md4K2, 5)
	c = r(md4G, c, d, a, b, in[4]+md4K2, 9)
	b = r(md4G, b, c, d, a, in[6]+md4K2, 13)
	// Round 3
	a = r(md4H, a, b, c, d, in[3]+md4K3, 3)
	d = r(md4H, d, a, b, c, in[7]+md4K3, 9)
	c = r(md4H, c, d, a, b, in[2]+md4K3, 11)
	b = r(md4H, b, c, d, a, in[6]+md4K3, 15)
	a = r(md4H, a, b, c, d, in[1]+md4K3, 3)
	d = r(md4H, d, a, b, c, in[5]+md4K3, 9)
	c = r(md4H, c, d, a, b, in[0]+md4K3, 11)
	b = r(md4H, b, c, d, a, in[4]+md4K3, 15)
	buf[0] += a
	buf[1] += b
	buf[2] += c
	buf[3] += d
}

func teaTransform(buf *[4]uint32, in *[teaChunkWords]uint32) {
	var sum uint32
	b0, b1 := buf[0], buf[1]
	a, b, c, d := in[0], in[1], in[2], in[3]
	for n := 0; n < teaRounds; n++ {
		sum += teaDelta
		b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b)
		b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d)
	}
	buf[0] += b0
	buf[1] += b1
}
