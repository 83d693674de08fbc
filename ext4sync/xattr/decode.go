package xattr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// ErrCorrupt is wrapped by every error about malformed xattr structures.
var ErrCorrupt = errors.New("corrupt")

// ErrEAInode is wrapped when an entry keeps its value in an inode
// (the ea_inode feature), which this package does not support.
var ErrEAInode = errors.New("value in an ea_inode (unsupported)")

// BlockOptions says how to verify an xattr block.
type BlockOptions struct {
	Checksum bool   // metadata_csum: verify h_checksum
	FSSeed   uint32 // the filesystem's checksum seed (disk.FSSeed)
}

// BlockHeader is what an xattr block's header says besides its entries.
type BlockHeader struct {
	Refcount uint32 // 0x04 h_refcount: inodes sharing the block
	Hash     uint32 // 0x0C h_hash
	Checksum uint32 // 0x10 h_checksum
}

// rawAttr is one decoded entry: its on-disk name parts and its value as
// stored (ACLs in ext4's encoding).
type rawAttr struct {
	index  uint8
	suffix string
	value  []byte
	hash   uint32
}

func (a rawAttr) name() string {
	p, _ := prefixOf(a.index)
	return p + a.suffix
}

// InodeXattrOffset returns where the in-inode xattr region starts in a raw
// inode (128 + i_extra_isize), or ok=false when the inode has no room for
// one (128-byte inodes, or i_extra_isize leaving less than the magic).
func InodeXattrOffset(raw []byte) (off int, ok bool, err error) {
	if len(raw) <= disk.GoodOldInodeSize {
		return 0, false, nil
	}
	if len(raw) < inodeExtraOff+2 {
		return 0, false, fmt.Errorf("inode of %d bytes: %w", len(raw), ErrCorrupt)
	}
	extra := int(binary.LittleEndian.Uint16(raw[inodeExtraOff:]))
	if extra%pad != 0 {
		return 0, false, fmt.Errorf("i_extra_isize %d not a multiple of %d: %w", extra, pad, ErrCorrupt)
	}
	if disk.GoodOldInodeSize+extra > len(raw) {
		return 0, false, fmt.Errorf("i_extra_isize %d exceeds inode size %d: %w", extra, len(raw), ErrCorrupt)
	}
	off = disk.GoodOldInodeSize + extra
	if extra < 2 || len(raw)-off <= magicSize {
		return off, false, nil
	}
	return off, true, nil
}

// DecodeInode returns the xattrs stored in the body of inode ino, whose raw
// on-disk bytes (the whole inode, s_inode_size long) are raw. Names and
// values are the VFS's; the result is sorted by name. An inode without the
// region's magic has none.
func DecodeInode(raw []byte, ino uint32) ([]Attr, error) {
	attrs, err := decodeInodeRaw(raw)
	if err != nil {
		return nil, fmt.Errorf("xattr: inode %d: %w", ino, err)
	}
	out, err := toVFS(attrs)
	if err != nil {
		return nil, fmt.Errorf("xattr: inode %d: %w", ino, err)
	}
	return out, nil
}

func decodeInodeRaw(raw []byte) ([]rawAttr, error) {
	off, ok, err := InodeXattrOffset(raw)
	if err != nil || !ok {
		return nil, err
	}
	region := raw[off:]
	if binary.LittleEndian.Uint32(region) != Magic {
		return nil, nil
	}
	// Values are offset from the first entry, right after the magic.
	return parseEntries(region[magicSize:], 0, false)
}

// DecodeBlock returns the xattrs of the external block numbered blk, whose
// bytes are b (one filesystem block), sorted by name, with its header.
// It verifies the magic, h_blocks, every entry's bounds, name and e_hash,
// h_hash (0 or the rehash of the entries), and h_checksum when
// opts.Checksum is set.
func DecodeBlock(b []byte, blk uint64, opts BlockOptions) ([]Attr, BlockHeader, error) {
	attrs, hdr, err := decodeBlockRaw(b, blk, opts)
	if err != nil {
		return nil, BlockHeader{}, fmt.Errorf("xattr: block %d: %w", blk, err)
	}
	out, err := toVFS(attrs)
	if err != nil {
		return nil, BlockHeader{}, fmt.Errorf("xattr: block %d: %w", blk, err)
	}
	return out, hdr, nil
}

func decodeBlockRaw(b []byte, blk uint64, opts BlockOptions) ([]rawAttr, BlockHeader, error) {
	var hdr BlockHeader
	if !validBlockSize(len(b)) {
		return nil, hdr, fmt.Errorf("%d bytes is not an ext4 block: %w", len(b), ErrCorrupt)
	}
	if m := binary.LittleEndian.Uint32(b[hdrMagic:]); m != Magic {
		return nil, hdr, fmt.Errorf("magic %#x, want %#x: %w", m, uint32(Magic), ErrCorrupt)
	}
	if n := binary.LittleEndian.Uint32(b[hdrBlocks:]); n != 1 {
		return nil, hdr, fmt.Errorf("h_blocks %d, want 1: %w", n, ErrCorrupt)
	}
	hdr.Refcount = binary.LittleEndian.Uint32(b[hdrRefcount:])
	hdr.Hash = binary.LittleEndian.Uint32(b[hdrHash:])
	hdr.Checksum = binary.LittleEndian.Uint32(b[hdrChecksum:])
	if opts.Checksum {
		if want := BlockChecksum(b, blk, opts.FSSeed); want != hdr.Checksum {
			return nil, hdr, fmt.Errorf("checksum %#08x, want %#08x: %w", hdr.Checksum, want, ErrCorrupt)
		}
	}
	attrs, err := parseEntries(b, headerSize, true)
	if err != nil {
		return nil, hdr, err
	}
	hashes := make([]uint32, len(attrs))
	for i, a := range attrs {
		hashes[i] = a.hash
	}
	// e2fsprogs leaves h_hash 0 (the block is then never shared); the
	// kernel stores the rehash. Anything else is corruption.
	if want := blockHash(hashes); hdr.Hash != 0 && want != hdr.Hash {
		return nil, hdr, fmt.Errorf("h_hash %#08x, want 0 or %#08x: %w", hdr.Hash, want, ErrCorrupt)
	}
	return attrs, hdr, nil
}

// parseEntries walks the entry table that starts at byte start of region.
// Value offsets count from byte 0 of region. In a block every e_hash must
// match; in an inode it may also be 0.
func parseEntries(region []byte, start int, inBlock bool) ([]rawAttr, error) {
	type span struct{ lo, hi, entry int }
	var (
		attrs []rawAttr
		spans []span
		seen  = map[string]bool{}
		off   = start
	)
	// Every entry takes at least entrySize bytes, so the walk ends within
	// len(region)/entrySize steps.
	for i := 0; ; i++ {
		if len(region)-off < terminator {
			return nil, fmt.Errorf("entry table has no end before byte %d: %w", len(region), ErrCorrupt)
		}
		if isLastEntry(region[off:]) {
			off += terminator
			break
		}
		if len(region)-off < entrySize {
			return nil, fmt.Errorf("entry %d at byte %d is cut short: %w", i, off, ErrCorrupt)
		}
		e := readEntry(region[off:])
		if n := entryLen(e.nameLen); len(region)-off < n+terminator {
			return nil, fmt.Errorf("entry %d at byte %d: name of %d bytes runs past the end: %w", i, off, e.nameLen, ErrCorrupt)
		}
		suffix := string(region[off+entName : off+entName+e.nameLen])
		a := rawAttr{index: e.index, suffix: suffix, hash: e.hash}
		if err := checkName(a); err != nil {
			return nil, fmt.Errorf("entry %d at byte %d: %w", i, off, err)
		}
		if seen[a.name()] {
			return nil, fmt.Errorf("entry %d at byte %d: %q appears twice: %w", i, off, a.name(), ErrCorrupt)
		}
		seen[a.name()] = true
		if e.valueInum != 0 {
			return nil, fmt.Errorf("entry %d at byte %d (%q): inode %d: %w", i, off, a.name(), e.valueInum, ErrEAInode)
		}
		attrs = append(attrs, a)
		spans = append(spans, span{e.valueOffs, e.valueOffs + int(e.valueSize), i})
		off += entryLen(e.nameLen)
	}
	tableEnd := off
	for i := range attrs {
		s := spans[i]
		size := s.hi - s.lo
		if size == 0 {
			attrs[i].value = []byte{}
		} else {
			// e2fsck holds the padded value to the region's end.
			if s.lo < tableEnd || s.hi < s.lo || s.lo+roundUp(size) > len(region) {
				return nil, fmt.Errorf("entry %d (%q): value at byte %d size %d outside [%d,%d): %w",
					i, attrs[i].name(), s.lo, size, tableEnd, len(region), ErrCorrupt)
			}
			attrs[i].value = append([]byte{}, region[s.lo:s.hi]...)
		}
		if err := checkHash(attrs[i], region, s.lo, size, inBlock); err != nil {
			return nil, fmt.Errorf("entry %d (%q): %w", i, attrs[i].name(), err)
		}
	}
	// Values must not overlap (padded to 4 bytes, as e2fsck checks them).
	sorted := make([]span, 0, len(spans))
	for _, s := range spans {
		if s.hi > s.lo {
			sorted = append(sorted, span{s.lo, s.lo + roundUp(s.hi-s.lo), s.entry})
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].lo < sorted[j].lo })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].lo < sorted[i-1].hi {
			return nil, fmt.Errorf("values of entries %d and %d overlap at byte %d: %w",
				sorted[i-1].entry, sorted[i].entry, sorted[i].lo, ErrCorrupt)
		}
	}
	return attrs, nil
}

// checkName rejects name indexes this package does not know and names the
// kernel could not have stored.
func checkName(a rawAttr) error {
	if _, ok := prefixOf(a.index); !ok {
		return fmt.Errorf("unknown name index %d: %w", a.index, ErrCorrupt)
	}
	for i := 0; i < len(a.suffix); i++ {
		if a.suffix[i] == 0 {
			return fmt.Errorf("name %q holds a NUL byte: %w", a.suffix, ErrCorrupt)
		}
	}
	switch a.index {
	case IndexACLAccess, IndexACLDefault, IndexRichACL:
	default:
		if a.suffix == "" {
			return fmt.Errorf("empty name under index %d: %w", a.index, ErrCorrupt)
		}
	}
	return nil
}

// checkHash verifies e_hash against the value as stored, padding included.
func checkHash(a rawAttr, region []byte, lo, size int, inBlock bool) error {
	if !inBlock && a.hash == 0 {
		return nil
	}
	var padded []byte
	if size > 0 {
		padded = region[lo : lo+roundUp(size)] // bounds checked by the caller
	}
	if a.hash == entryHash(a.suffix, padded, false) || a.hash == entryHash(a.suffix, padded, true) {
		return nil
	}
	return fmt.Errorf("e_hash %#08x does not match name and value: %w", a.hash, ErrCorrupt)
}

// toVFS converts decoded entries to VFS names and encodings, sorted by name.
func toVFS(attrs []rawAttr) ([]Attr, error) {
	out := make([]Attr, 0, len(attrs))
	for _, a := range attrs {
		x := Attr{Name: a.name(), Value: a.value}
		if isACLName(x.Name) {
			v, err := ACLFromDisk(a.value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", x.Name, err)
			}
			x.Value = v
		}
		out = append(out, x)
	}
	sortByName(out)
	return out, nil
}

func sortByName(x []Attr) {
	sort.Slice(x, func(i, j int) bool { return x[i].Name < x[j].Name })
}

// BlockChecksum is the h_checksum an xattr block numbered blk must carry:
// crc32c(fsSeed, le64 blk || block with h_checksum zeroed). A slice too
// short for a header has none: 0.
func BlockChecksum(b []byte, blk uint64, fsSeed uint32) uint32 {
	if len(b) < headerSize {
		return 0
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], blk)
	crc := disk.Crc32c(fsSeed, n[:])
	crc = disk.Crc32c(crc, b[:hdrChecksum])
	var zero [4]byte
	crc = disk.Crc32c(crc, zero[:])
	return disk.Crc32c(crc, b[hdrChecksum+4:])
}

// SetBlockChecksum stores BlockChecksum in the block's header.
func SetBlockChecksum(b []byte, blk uint64, fsSeed uint32) {
	if len(b) < headerSize {
		return
	}
	binary.LittleEndian.PutUint32(b[hdrChecksum:], BlockChecksum(b, blk, fsSeed))
}
