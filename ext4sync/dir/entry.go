package dir

import (
	"encoding/binary"
	"fmt"
)

// ext4_dir_entry_2, the linked-list directory entry:
//
//	0x0 inode     u32
//	0x4 rec_len   u16
//	0x6 name_len  u8
//	0x7 file_type u8
//	0x8 name      [name_len]u8, padded to 4 bytes
const (
	deInode    = 0x0
	deRecLen   = 0x4
	deNameLen  = 0x6
	deFileType = 0x7
	deName     = 0x8

	direntHeader = deName
	direntAlign  = 4
	minRecLen    = 12 // rec_len of an entry with a 1..4-byte name
	MaxNameLen   = 255
	// recLen64K is how a 65536-byte rec_len is stored in 64 KiB blocks.
	recLen64K    = 65535
	maxBlockSize = 65536
)

// The leaf checksum tail (ext4_dir_entry_tail) is a fake entry that ends a
// leaf block under metadata_csum:
//
//	0x0 det_reserved_zero1 u32 (inode 0)
//	0x4 det_rec_len        u16 = 12
//	0x6 det_reserved_zero2 u8  (name_len 0)
//	0x7 det_reserved_ft    u8  = 0xDE
//	0x8 det_checksum       u32
const (
	tailSize     = 12
	tailRecLen   = 0x4
	tailFT       = 0x7
	tailChecksum = 0x8
	tailFTValue  = 0xDE
)

// FileType is the file_type byte of a directory entry.
type FileType uint8

// The file_type values (EXT4_FT_*).
const (
	TypeUnknown FileType = 0
	TypeRegular FileType = 1
	TypeDir     FileType = 2
	TypeCharDev FileType = 3
	TypeBlock   FileType = 4
	TypeFIFO    FileType = 5
	TypeSocket  FileType = 6
	TypeSymlink FileType = 7
	typeMax     FileType = TypeSymlink
)

// Entry is one name in a directory.
type Entry struct {
	Name  string
	Inode uint32
	Type  FileType // TypeUnknown unless the filesystem has the filetype feature
}

// recLenFor is the space an entry with an n-byte name needs.
func recLenFor(n int) int {
	return (direntHeader + n + direntAlign - 1) &^ (direntAlign - 1)
}

func getRecLen(b []byte, off, blockSize int) int {
	v := int(binary.LittleEndian.Uint16(b[off+deRecLen:]))
	if blockSize >= maxBlockSize && (v == recLen64K || v == 0) {
		return maxBlockSize
	}
	return v
}

func putRecLen(b []byte, off, recLen int) {
	if recLen >= maxBlockSize {
		recLen = recLen64K
	}
	binary.LittleEndian.PutUint16(b[off+deRecLen:], uint16(recLen))
}

// dirent is a parsed entry together with where it lives in its block.
type dirent struct {
	off    int
	recLen int
	inode  uint32
	name   []byte // aliases the block
	ftype  FileType
}

// putDirent writes an entry header and name at off with the given rec_len.
func putDirent(b []byte, off, recLen int, inode uint32, name []byte, ft FileType) {
	binary.LittleEndian.PutUint32(b[off+deInode:], inode)
	putRecLen(b, off, recLen)
	b[off+deNameLen] = byte(len(name))
	b[off+deFileType] = byte(ft)
	n := copy(b[off+deName:], name)
	// Zero the padding so the block is deterministic.
	for i := off + deName + n; i < off+recLenFor(len(name)) && i < len(b); i++ {
		b[i] = 0
	}
}

// parseDirents walks the entries of b[0:end] (end excludes a checksum tail),
// validating each as the kernel's ext4_check_dir_entry does. lblk only
// names the block in errors. inodes, when non-zero, bounds inode numbers.
func parseDirents(b []byte, end, blockSize int, lblk uint32, inodes uint32) ([]dirent, error) {
	out := make([]dirent, 0, countDirents(b, end, blockSize))
	for off := 0; off < end; {
		if off+direntHeader > end {
			return nil, fmt.Errorf("dir: block %d offset %d: entry header overruns the block", lblk, off)
		}
		rl := getRecLen(b, off, blockSize)
		nl := int(b[off+deNameLen])
		switch {
		case rl < minRecLen:
			return nil, fmt.Errorf("dir: block %d offset %d: rec_len %d is smaller than minimal", lblk, off, rl)
		case rl%direntAlign != 0:
			return nil, fmt.Errorf("dir: block %d offset %d: rec_len %d is not a multiple of 4", lblk, off, rl)
		case rl < recLenFor(nl):
			return nil, fmt.Errorf("dir: block %d offset %d: rec_len %d too small for name_len %d", lblk, off, rl, nl)
		case off+rl > end:
			return nil, fmt.Errorf("dir: block %d offset %d: rec_len %d overruns the block (end %d)", lblk, off, rl, end)
		}
		ino := binary.LittleEndian.Uint32(b[off+deInode:])
		if inodes != 0 && ino > inodes {
			return nil, fmt.Errorf("dir: block %d offset %d: inode %d out of bounds (%d inodes)", lblk, off, ino, inodes)
		}
		out = append(out, dirent{
			off:    off,
			recLen: rl,
			inode:  ino,
			name:   b[off+deName : off+deName+nl],
			ftype:  FileType(b[off+deFileType]),
		})
		off += rl
	}
	return out, nil
}

// countDirents counts the entries parseDirents will find in b[0:end], so
// it allocates once (directory lookups parse a block each): it follows
// the rec_len chain and stops at the first one parseDirents refuses.
func countDirents(b []byte, end, blockSize int) int {
	n := 0
	for off := 0; off+direntHeader <= end; n++ {
		rl := getRecLen(b, off, blockSize)
		if rl < minRecLen {
			break
		}
		off += rl
	}
	return n
}

// hasTail reports whether b ends with a well-formed leaf checksum tail.
func hasTail(b []byte) bool {
	t := len(b) - tailSize
	if t < 0 {
		return false
	}
	return binary.LittleEndian.Uint32(b[t:]) == 0 &&
		binary.LittleEndian.Uint16(b[t+tailRecLen:]) == tailSize &&
		b[t+deNameLen] == 0 && b[t+tailFT] == tailFTValue
}

func putTail(b []byte) {
	t := len(b) - tailSize
	for i := t; i < len(b); i++ {
		b[i] = 0
	}
	binary.LittleEndian.PutUint16(b[t+tailRecLen:], tailSize)
	b[t+tailFT] = tailFTValue
}
