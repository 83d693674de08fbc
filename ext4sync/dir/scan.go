package dir

import (
	"encoding/binary"
	"fmt"
)

// Read-only access to single directory blocks, for a consistency checker
// that applies e2fsck's rules itself: the blocks are decoded exactly as
// the rest of this package decodes them, but nothing is cached, no rule
// beyond the block's own format is applied and nothing is written.

// Dirent is one entry of a leaf block as stored.
type Dirent struct {
	Off    int    // byte offset in the block
	RecLen int    // rec_len (65536-byte records decoded)
	Inode  uint32 // 0 for an unused record
	Name   []byte // name_len bytes; aliases the block
	Type   FileType
	// Pad is the byte after the name when the record has room for it
	// (e2fsck requires "." and ".." to be NUL-terminated), else 0.
	Pad byte
}

// ParseLeaf walks the records of a leaf block b (one filesystem block)
// with the kernel's rules (rec_len at least 12, a multiple of 4, large
// enough for its name, inside the block); the records must end exactly
// where the checksum tail starts (csum) or at the end of the block. lblk
// only names the block in errors.
func ParseLeaf(b []byte, csum bool, lblk uint32) ([]Dirent, error) {
	if err := checkParams(Params{BlockSize: len(b)}); err != nil {
		return nil, err
	}
	end := len(b)
	if csum {
		end -= tailSize
	}
	des, err := parseDirents(b, end, len(b), lblk, 0)
	if err != nil {
		return nil, err
	}
	out := make([]Dirent, len(des))
	for i, de := range des {
		out[i] = Dirent{Off: de.off, RecLen: de.recLen, Inode: de.inode, Name: de.name, Type: de.ftype}
		if p := de.off + deName + len(de.name); p < de.off+de.recLen {
			out[i].Pad = b[p]
		}
	}
	return out, nil
}

// VerifyLeafChecksum checks a leaf block's metadata_csum tail: it must be
// present and hold the checksum seeded with the directory inode's seed.
func VerifyLeafChecksum(seed uint32, b []byte, lblk uint32) error {
	if !hasTail(b) {
		return fmt.Errorf("dir: block %d: no directory leaf checksum tail", lblk)
	}
	got := binary.LittleEndian.Uint32(b[len(b)-tailSize+tailChecksum:])
	if want := leafChecksum(seed, b); got != want {
		return fmt.Errorf("dir: block %d: leaf checksum %#08x, want %#08x", lblk, got, want)
	}
	return nil
}

// DxRootInfo is the dx_root_info of an indexed directory's block 0.
type DxRootInfo struct {
	ReservedZero   uint32
	HashVersion    uint8
	InfoLength     uint8
	IndirectLevels uint8
	Flags          uint8
}

// DxRootInfoOf decodes the dx_root_info of block 0.
func DxRootInfoOf(b []byte) DxRootInfo {
	return DxRootInfo{
		ReservedZero:   binary.LittleEndian.Uint32(b[rootInfo:]),
		HashVersion:    b[rootHashVersion],
		InfoLength:     b[rootInfoLength],
		IndirectLevels: b[rootIndirect],
		Flags:          b[rootFlags],
	}
}

// HashFlagIncompat is the dx_root_info flag no implementation may ignore.
const HashFlagIncompat = rootFlagsUnimplemented

// DxEntry is one index entry: names hashing from Hash (entry 0: 0) live
// under logical block Block.
type DxEntry struct {
	Hash  uint32
	Block uint32
}

// DxIndex is the count/limit header and the entries of a dx_root (Root)
// or dx_node, as stored: Count entries are returned, at most as many as
// fit in the block; nothing is validated.
type DxIndex struct {
	Limit, Count int
	Entries      []DxEntry
}

// DxCountOffset is where the count/limit header starts: after the
// dx_root_info (whose stored info_length is used, as e2fsck does) in block
// 0, after the fake empty entry in a dx_node.
func DxCountOffset(b []byte, root bool) int {
	if root {
		return rootInfo + int(b[rootInfoLength])
	}
	return nodeCountOff
}

// ParseDxIndex decodes the index of a dx_root or dx_node block.
func ParseDxIndex(b []byte, root bool) DxIndex {
	off := DxCountOffset(b, root)
	if off+dxEntrySize > len(b) {
		return DxIndex{}
	}
	x := DxIndex{
		Limit: int(binary.LittleEndian.Uint16(b[off+dxLimit:])),
		Count: int(binary.LittleEndian.Uint16(b[off+dxCount:])),
	}
	n := min(x.Count, (len(b)-off)/dxEntrySize)
	x.Entries = make([]DxEntry, n)
	for i := range x.Entries {
		o := off + i*dxEntrySize
		e := DxEntry{Block: binary.LittleEndian.Uint32(b[o+dxEntryBlock:])}
		if i > 0 {
			e.Hash = binary.LittleEndian.Uint32(b[o+dxEntryHash:])
		}
		x.Entries[i] = e
	}
	return x
}

// DxLimit is the number of index entries a dx_root (root) or dx_node of a
// block of blockSize bytes holds.
func DxLimit(blockSize int, root, csum bool) int {
	if root {
		return dxLimitFor(blockSize, rootCountOff, csum)
	}
	return dxLimitFor(blockSize, nodeCountOff, csum)
}

// IsDxNode reports whether b looks like a dx_node: one empty record
// spanning the block, then a count/limit header whose limit fits a node.
func IsDxNode(b []byte, csum bool) bool {
	return binary.LittleEndian.Uint32(b[deInode:]) == 0 && getRecLen(b, 0, len(b)) == len(b) &&
		b[deNameLen] == 0 && int(binary.LittleEndian.Uint16(b[nodeCountOff+dxLimit:])) == DxLimit(len(b), false, csum)
}

// VerifyDxChecksum checks the dx_tail of a dx_root (root) or dx_node.
func VerifyDxChecksum(seed uint32, b []byte, root bool, lblk uint32) error {
	return verifyDxChecksum(seed, b, DxCountOffset(b, root), lblk)
}
