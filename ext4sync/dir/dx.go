package dir

import (
	"encoding/binary"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// dx_root, block 0 of an indexed directory:
//
//	0x00 "." entry, rec_len 12
//	0x0C ".." entry, rec_len blocksize-12
//	0x18 dx_root_info.reserved_zero   u32
//	0x1C dx_root_info.hash_version    u8
//	0x1D dx_root_info.info_length     u8 = 8
//	0x1E dx_root_info.indirect_levels u8
//	0x1F dx_root_info.unused_flags    u8
//	0x20 dx_countlimit.limit u16, 0x22 count u16, 0x24 block of entry 0
//	0x28 dx_entry{hash u32, block u32}...
//
// dx_node, an interior index block: a fake entry (inode 0, rec_len
// blocksize) then dx_countlimit at 0x08 and entries as above.
//
// Under metadata_csum a dx_tail{dt_reserved u32, dt_checksum u32} follows
// the limit'th entry.
const (
	rootDotDot      = 0x0C
	rootInfo        = 0x18
	rootHashVersion = 0x1C
	rootInfoLength  = 0x1D
	rootIndirect    = 0x1E
	rootFlags       = 0x1F
	// rootFlagsUnimplemented is the unused_flags bit the kernel refuses.
	rootFlagsUnimplemented = 0x1
	rootCountOff           = 0x20
	nodeCountOff           = 0x08
	dxLimit                = 0x0
	dxCount                = 0x2
	dxEntrySize            = 8
	dxEntryHash            = 0x0
	dxEntryBlock           = 0x4
	dxInfoLength           = 8
	dxTailSize             = 8
	dxTailChecksum         = 0x4
	dotRecLen              = 12
	dotDotNameLen          = 2
	maxLevelsNoLarge       = 2 // ext4_dir_htree_level without largedir
	maxLevelsLarge         = 3 // with largedir (EXT4_HTREE_LEVEL)
)

// dxEntry is one index entry: names hashing at or above Hash (low bit: the
// collision flag) live under Block.
type dxEntry struct {
	hash  uint32
	block uint32
}

// dxBlock is a parsed root or node; entries[0].hash is implicitly 0.
type dxBlock struct {
	countOff int
	limit    int
	entries  []dxEntry
}

// dxLimitFor is the number of entries a root (countOff 0x20) or node
// (countOff 0x08) holds.
func dxLimitFor(blockSize, countOff int, csum bool) int {
	space := blockSize - countOff
	if csum {
		space -= dxTailSize
	}
	return space / dxEntrySize
}

// parseDx reads the count/limit and entries at countOff and checks them.
func parseDx(b []byte, countOff int, csum bool, lblk uint32, nblocks uint32) (*dxBlock, error) {
	bs := len(b)
	want := dxLimitFor(bs, countOff, csum)
	limit := int(binary.LittleEndian.Uint16(b[countOff+dxLimit:]))
	count := int(binary.LittleEndian.Uint16(b[countOff+dxCount:]))
	if limit != want {
		return nil, fmt.Errorf("dir: htree block %d: dx limit %d, want %d", lblk, limit, want)
	}
	if count == 0 || count > limit {
		return nil, fmt.Errorf("dir: htree block %d: dx count %d out of range 1..%d", lblk, count, limit)
	}
	d := &dxBlock{countOff: countOff, limit: limit, entries: make([]dxEntry, count)}
	for i := range d.entries {
		o := countOff + i*dxEntrySize
		e := dxEntry{block: binary.LittleEndian.Uint32(b[o+dxEntryBlock:])}
		if i > 0 {
			e.hash = binary.LittleEndian.Uint32(b[o+dxEntryHash:])
			if e.hash < d.entries[i-1].hash {
				return nil, fmt.Errorf("dir: htree block %d: dx entry %d hash %#x below previous %#x", lblk, i, e.hash, d.entries[i-1].hash)
			}
		}
		if e.block == 0 || e.block >= nblocks {
			return nil, fmt.Errorf("dir: htree block %d: dx entry %d points at block %d (directory has %d)", lblk, i, e.block, nblocks)
		}
		d.entries[i] = e
	}
	return d, nil
}

// putDx writes the count/limit and entries back; unused slots are zeroed.
func putDx(b []byte, d *dxBlock) {
	binary.LittleEndian.PutUint16(b[d.countOff+dxLimit:], uint16(d.limit))
	binary.LittleEndian.PutUint16(b[d.countOff+dxCount:], uint16(len(d.entries)))
	for i, e := range d.entries {
		o := d.countOff + i*dxEntrySize
		if i > 0 {
			binary.LittleEndian.PutUint32(b[o+dxEntryHash:], e.hash)
		}
		binary.LittleEndian.PutUint32(b[o+dxEntryBlock:], e.block)
	}
	for i := len(d.entries); i < d.limit; i++ {
		o := d.countOff + i*dxEntrySize
		clear(b[o : o+dxEntrySize])
	}
}

// find returns the index of the last entry whose hash is <= hash.
func (d *dxBlock) find(hash uint32) int {
	lo, hi := 1, len(d.entries)-1
	for lo <= hi {
		m := (lo + hi) / 2
		if d.entries[m].hash > hash {
			hi = m - 1
		} else {
			lo = m + 1
		}
	}
	return lo - 1
}

// insertAfter puts e right after position at.
func (d *dxBlock) insertAfter(at int, e dxEntry) {
	d.entries = append(d.entries, dxEntry{})
	copy(d.entries[at+2:], d.entries[at+1:])
	d.entries[at+1] = e
}

func (d *dxBlock) full() bool { return len(d.entries) >= d.limit }

// initNode makes b an empty dx_node (fake entry spanning the block).
func initNode(b []byte) {
	clear(b)
	putRecLen(b, 0, len(b))
}

// dxChecksum is ext4_dx_csum: crc32c over the block up to the last used
// entry, then the tail's reserved word and a zero checksum field.
func dxChecksum(seed uint32, b []byte, d *dxBlock) uint32 {
	size := d.countOff + len(d.entries)*dxEntrySize
	t := d.countOff + d.limit*dxEntrySize
	crc := disk.Crc32c(seed, b[:size])
	crc = disk.Crc32c(crc, b[t:t+dxTailChecksum])
	var zero [4]byte
	return disk.Crc32c(crc, zero[:])
}

// dxCountOffAndTail gives where the tail lives, from the raw count/limit, or
// an error if it would not fit.
func dxTailOffset(b []byte, countOff int, lblk uint32) (int, error) {
	limit := int(binary.LittleEndian.Uint16(b[countOff+dxLimit:]))
	t := countOff + limit*dxEntrySize
	if t+dxTailSize > len(b) {
		return 0, fmt.Errorf("dir: htree block %d: no space for dx tail (limit %d)", lblk, limit)
	}
	return t, nil
}

// verifyDxChecksum checks a root or node checksum before it is parsed.
func verifyDxChecksum(seed uint32, b []byte, countOff int, lblk uint32) error {
	t, err := dxTailOffset(b, countOff, lblk)
	if err != nil {
		return err
	}
	limit := int(binary.LittleEndian.Uint16(b[countOff+dxLimit:]))
	count := int(binary.LittleEndian.Uint16(b[countOff+dxCount:]))
	if count > limit {
		return fmt.Errorf("dir: htree block %d: dx count %d exceeds limit %d", lblk, count, limit)
	}
	d := &dxBlock{countOff: countOff, limit: limit, entries: make([]dxEntry, count)}
	got := binary.LittleEndian.Uint32(b[t+dxTailChecksum:])
	if want := dxChecksum(seed, b, d); got != want {
		return fmt.Errorf("dir: htree block %d: checksum %#08x, want %#08x", lblk, got, want)
	}
	return nil
}

func setDxChecksum(seed uint32, b []byte, d *dxBlock) {
	t := d.countOff + d.limit*dxEntrySize
	binary.LittleEndian.PutUint32(b[t+dxTailChecksum:], dxChecksum(seed, b, d))
}

// leafChecksum is ext4_dirblock_csum: crc32c over the block before the tail.
func leafChecksum(seed uint32, b []byte) uint32 {
	return disk.Crc32c(seed, b[:len(b)-tailSize])
}
