package xattr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// ErrNoSpace is wrapped when a file's xattrs fit neither its inode body nor
// one xattr block.
var ErrNoSpace = errors.New("xattrs do not fit the inode and one block")

// ErrName is wrapped when an xattr name or value cannot be stored.
var ErrName = errors.New("xattr cannot be stored")

// diskAttr is an attribute ready to place: name parts and the value as it
// will be stored (ACLs already in ext4's encoding).
type diskAttr struct {
	name   string
	index  uint8
	suffix string
	value  []byte
}

// need is the bytes the attribute takes in an entry table and value area.
func (a diskAttr) need() int { return entryLen(len(a.suffix)) + roundUp(len(a.value)) }

// Encode encodes the xattrs of one inode, named file in errors.
// inodeSpace is the bytes from the in-inode region's start (see
// InodeXattrOffset) to the end of the inode; blockSize is the filesystem's
// block size, or 0 when no block may be used. inInode (inodeSpace bytes, nil when inodeSpace <= 0) goes at
// that offset; block, nil when no attribute needs one, is a whole xattr
// block with refcount 1 and no checksum yet (see SetBlockChecksum).
//
// Attributes are placed in the order given, as e2fsprogs' ext2fs_xattr_set
// places them one by one: into the inode body while it fits, otherwise into
// the block, whose entries are sorted by (index, name length, name). Given
// the same order as mke2fs -d saw (the source's listxattr order; name order
// for a sorted set), the bytes equal mke2fs's, h_hash 0 included.
func Encode(attrs []Attr, inodeSpace, blockSize int, file string) (inInode, block []byte, err error) {
	if blockSize != 0 && !validBlockSize(blockSize) {
		return nil, nil, fmt.Errorf("xattr: %s: %d is not an ext4 block size", file, blockSize)
	}
	todo, err := prepare(attrs)
	if err != nil {
		return nil, nil, fmt.Errorf("xattr: %s: %w", file, err)
	}
	hasBody := inodeSpace > magicSize
	ibodyFree := inodeSpace - magicSize - terminator
	blockFree := blockSize - headerSize - terminator
	var ibody, inBlock []diskAttr
	for _, a := range todo {
		n := a.need()
		switch {
		case hasBody && n <= ibodyFree:
			ibody = append(ibody, a)
			ibodyFree -= n
		case a.name == NameInlineData:
			return nil, nil, fmt.Errorf("xattr: %s: %s (%d bytes) does not fit the inode body: %w",
				file, a.name, len(a.value), ErrNoSpace)
		case n <= blockFree:
			inBlock = append(inBlock, a)
			blockFree -= n
		default:
			return nil, nil, fmt.Errorf("xattr: %s: %s (%d bytes) left without room, %d bytes free in the inode, %d in a %d-byte block: %w",
				file, a.name, len(a.value), max(ibodyFree, 0), blockFree, blockSize, ErrNoSpace)
		}
	}
	if inodeSpace > 0 {
		inInode = make([]byte, inodeSpace)
		if hasBody && len(todo) > 0 {
			binary.LittleEndian.PutUint32(inInode, Magic)
			writeTable(inInode[magicSize:], 0, ibody, false)
		}
	}
	if len(inBlock) > 0 {
		sort.Slice(inBlock, func(i, j int) bool { return blockLess(inBlock[i], inBlock[j]) })
		block = make([]byte, blockSize)
		binary.LittleEndian.PutUint32(block[hdrMagic:], Magic)
		binary.LittleEndian.PutUint32(block[hdrRefcount:], 1)
		binary.LittleEndian.PutUint32(block[hdrBlocks:], 1)
		writeTable(block, headerSize, inBlock, true)
	}
	return inInode, block, nil
}

// prepare checks names, rejects duplicates and converts ACLs.
func prepare(attrs []Attr) ([]diskAttr, error) {
	out := make([]diskAttr, 0, len(attrs))
	seen := make(map[string]bool, len(attrs))
	for _, x := range attrs {
		if seen[x.Name] {
			return nil, fmt.Errorf("%q given twice: %w", x.Name, ErrName)
		}
		seen[x.Name] = true
		index, suffix := splitName(x.Name)
		r := rawAttr{index: index, suffix: suffix}
		if x.Name == "" || len(suffix) > maxNameLen {
			return nil, fmt.Errorf("name %q: length %d: %w", x.Name, len(x.Name), ErrName)
		}
		if err := checkName(r); err != nil {
			return nil, fmt.Errorf("name %q: %w: %w", x.Name, ErrName, err)
		}
		value := x.Value
		if isACLName(x.Name) {
			v, err := ACLToDisk(x.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", x.Name, err)
			}
			value = v
		}
		out = append(out, diskAttr{name: x.Name, index: index, suffix: suffix, value: value})
	}
	return out, nil
}

// blockLess is the kernel's order of entries in an xattr block.
func blockLess(a, b diskAttr) bool {
	if a.index != b.index {
		return a.index < b.index
	}
	if len(a.suffix) != len(b.suffix) {
		return len(a.suffix) < len(b.suffix)
	}
	return a.suffix < b.suffix
}

// writeTable writes entries from byte start of region and packs their
// values down from its end, the first entry's value last; value offsets
// count from byte 0 of region. Block entries get e_hash (the signed-char
// variant e2fsprogs computes on x86), inode entries 0, as e2fsprogs does.
// A block's h_hash stays 0: e2fsprogs never sets it and nothing checks it.
// The caller has checked that everything fits.
func writeTable(region []byte, start int, attrs []diskAttr, withHash bool) {
	off, end := start, len(region)
	for _, a := range attrs {
		size := roundUp(len(a.value))
		end -= size
		copy(region[end:], a.value)
		e := entryHeader{nameLen: len(a.suffix), index: a.index, valueOffs: end, valueSize: uint32(len(a.value))}
		if withHash {
			e.hash = entryHash(a.suffix, region[end:end+size], true)
		}
		writeEntry(region[off:], e, a.suffix)
		off += entryLen(len(a.suffix))
	}
}
