// Package xattr reads and writes ext4 extended attributes: the in-inode
// region that follows i_extra_isize and the external xattr block an inode's
// i_file_acl points to. Names and values cross its API as the VFS shows them
// (Attr): POSIX ACLs are converted between the VFS encoding and ext4's
// compact on-disk encoding here. The package does no I/O, holds no policy
// and knows nothing of the sync above it.
//
// Encode places attributes the way e2fsprogs' ext2fs_xattr_set does when
// mke2fs -d copies a tree: each attribute, in the order given, goes into the
// inode body if it still fits there, otherwise into the block, whose entries
// are kept in the kernel's sort order. An unchanged set therefore re-encodes
// to the bytes mke2fs wrote.
package xattr

import (
	"encoding/binary"
	"strings"
)

// Attr is one extended attribute, named and encoded as the VFS shows it
// (e.g. "security.capability", "system.posix_acl_access" in the VFS's ACL
// encoding).
type Attr struct {
	Name  string
	Value []byte
}

// Magic is h_magic of an xattr block and the magic that opens the in-inode
// xattr region.
const Magic = 0xEA020000

// Sizes and alignment of the on-disk structures.
const (
	headerSize   = 32  // struct ext4_xattr_header
	entrySize    = 16  // struct ext4_xattr_entry without the name
	magicSize    = 4   // the in-inode region's magic
	terminator   = 4   // the zero u32 that ends an entry table
	pad          = 4   // EXT4_XATTR_PAD: names and values round up to it
	maxNameLen   = 255 // e_name_len is a u8
	minBlockSize = 1024
	maxBlockSize = 65536 // e_value_offs is a le16
)

// validBlockSize reports whether n is an ext4 block size.
func validBlockSize(n int) bool {
	return n >= minBlockSize && n <= maxBlockSize && n&(n-1) == 0
}

// Byte offsets inside the xattr block header (struct ext4_xattr_header).
const (
	hdrMagic    = 0x00 // h_magic, le32
	hdrRefcount = 0x04 // h_refcount, le32
	hdrBlocks   = 0x08 // h_blocks, le32: always 1
	hdrHash     = 0x0C // h_hash, le32
	hdrChecksum = 0x10 // h_checksum, le32 (metadata_csum)
	// 0x14..0x1F h_reserved[3]
)

// Byte offsets inside an entry (struct ext4_xattr_entry).
const (
	entNameLen    = 0x00 // e_name_len, u8
	entNameIndex  = 0x01 // e_name_index, u8
	entValueOffs  = 0x02 // e_value_offs, le16
	entValueInum  = 0x04 // e_value_inum, le32 (ea_inode; unsupported)
	entValueSize  = 0x08 // e_value_size, le32
	entHash       = 0x0C // e_hash, le32
	entName       = 0x10 // e_name, e_name_len bytes, not NUL-terminated
	inodeExtraOff = 0x80 // i_extra_isize, le16, in the inode
)

// Name indexes (e_name_index) and the VFS prefix each stands for.
const (
	IndexNone       = 0 // full name stored verbatim (e2fsprogs fallback)
	IndexUser       = 1
	IndexACLAccess  = 2
	IndexACLDefault = 3
	IndexTrusted    = 4
	IndexSecurity   = 6
	IndexSystem     = 7
	IndexRichACL    = 8
	IndexHurd       = 10
)

// Names of the POSIX ACL attributes and of the inline-data attribute.
const (
	NameACLAccess  = "system.posix_acl_access"
	NameACLDefault = "system.posix_acl_default"
	NameInlineData = "system.data"
)

// prefixes is in order of decreasing specificity, as e2fsprogs matches
// names: the first prefix a name starts with gives its index.
var prefixes = []struct {
	index  uint8
	prefix string
}{
	{IndexHurd, "gnu."},
	{IndexACLDefault, NameACLDefault},
	{IndexACLAccess, NameACLAccess},
	{IndexRichACL, "system.richacl"},
	{IndexSecurity, "security."},
	{IndexTrusted, "trusted."},
	{IndexSystem, "system."},
	{IndexUser, "user."},
}

// splitName returns the name index and the suffix stored on disk for a VFS
// name. A name with no known prefix is stored whole under index 0, as
// e2fsprogs does.
func splitName(name string) (index uint8, suffix string) {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.index, name[len(p.prefix):]
		}
	}
	return IndexNone, name
}

// prefixOf returns the VFS prefix for a name index; ok is false for indexes
// this package does not know (lustre, encryption, ...).
func prefixOf(index uint8) (prefix string, ok bool) {
	if index == IndexNone {
		return "", true
	}
	for _, p := range prefixes {
		if p.index == index {
			return p.prefix, true
		}
	}
	return "", false
}

// roundUp rounds n up to the xattr padding (EXT4_XATTR_PAD).
func roundUp(n int) int { return (n + pad - 1) &^ (pad - 1) }

// entryLen is the bytes an entry with a name of nameLen bytes takes in the
// entry table (EXT4_XATTR_LEN).
func entryLen(nameLen int) int { return roundUp(entrySize + nameLen) }

// entryHeader is one decoded struct ext4_xattr_entry.
type entryHeader struct {
	nameLen   int
	index     uint8
	valueOffs int
	valueInum uint32
	valueSize uint32
	hash      uint32
}

func readEntry(b []byte) entryHeader {
	return entryHeader{
		nameLen:   int(b[entNameLen]),
		index:     b[entNameIndex],
		valueOffs: int(binary.LittleEndian.Uint16(b[entValueOffs:])),
		valueInum: binary.LittleEndian.Uint32(b[entValueInum:]),
		valueSize: binary.LittleEndian.Uint32(b[entValueSize:]),
		hash:      binary.LittleEndian.Uint32(b[entHash:]),
	}
}

func writeEntry(b []byte, e entryHeader, suffix string) {
	b[entNameLen] = uint8(e.nameLen)
	b[entNameIndex] = e.index
	binary.LittleEndian.PutUint16(b[entValueOffs:], uint16(e.valueOffs))
	binary.LittleEndian.PutUint32(b[entValueInum:], e.valueInum)
	binary.LittleEndian.PutUint32(b[entValueSize:], e.valueSize)
	binary.LittleEndian.PutUint32(b[entHash:], e.hash)
	copy(b[entName:], suffix)
}

// isLastEntry reports whether b starts with the zero u32 that ends an entry
// table (EXT4_IS_LAST_ENTRY).
func isLastEntry(b []byte) bool {
	return binary.LittleEndian.Uint32(b) == 0
}
