package xattr

import "encoding/binary"

// Shifts of the kernel's xattr hashes (fs/ext4/xattr.c).
const (
	nameHashShift  = 5
	valueHashShift = 16
	blockHashShift = 16
)

func rotl(h uint32, s uint) uint32 { return h<<s | h>>(32-s) }

// entryHash is e_hash of an entry stored in an xattr block: the name's
// bytes, then the value as little-endian u32 words, padding included.
// signed selects the historical variant that fed name bytes as signed
// chars (x86 e2fsprogs and kernels before 6.2); the two differ only for
// names with bytes >= 0x80.
func entryHash(name string, paddedValue []byte, signed bool) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		c := uint32(name[i])
		if signed {
			c = uint32(int32(int8(name[i])))
		}
		h = rotl(h, nameHashShift) ^ c
	}
	for i := 0; i+pad <= len(paddedValue); i += pad {
		h = rotl(h, valueHashShift) ^ binary.LittleEndian.Uint32(paddedValue[i:])
	}
	return h
}

// blockHash is h_hash of an xattr block from its entries' e_hash values, in
// table order; zero if any entry's hash is zero (ext4_xattr_rehash).
func blockHash(hashes []uint32) uint32 {
	var h uint32
	for _, eh := range hashes {
		if eh == 0 {
			return 0
		}
		h = rotl(h, blockHashShift) ^ eh
	}
	return h
}
