// Package disk holds ext4's on-disk structures that the whole engine shares:
// the superblock, group descriptors, inodes, feature flags and the crc32c
// helpers every metadata checksum is built from. It does no I/O and holds no
// policy; structure-specific formats (extents, directories, xattrs) live in
// their own packages beside it.
package disk

import (
	"encoding/binary"
	"hash/crc32"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Crc32c continues ext4's raw crc32c (the kernel's crc32c_le: no inversion
// on entry or exit) from crc over p. ext4 seeds most checksums with ~0 or
// with the filesystem seed.
func Crc32c(crc uint32, p []byte) uint32 {
	return ^crc32.Update(^crc, castagnoli, p)
}

// FSSeed is the checksum seed of a filesystem: s_checksum_seed when the
// metadata_csum_seed feature is set, otherwise crc32c(~0, uuid).
func FSSeed(uuid [16]byte) uint32 {
	return Crc32c(^uint32(0), uuid[:])
}

// InodeSeed is the per-inode seed that inode, extent, directory and
// xattr-in-inode checksums start from: crc32c(crc32c(fsSeed, ino), gen).
func InodeSeed(fsSeed, ino, gen uint32) uint32 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], ino)
	crc := Crc32c(fsSeed, b[:])
	binary.LittleEndian.PutUint32(b[:], gen)
	return Crc32c(crc, b[:])
}
