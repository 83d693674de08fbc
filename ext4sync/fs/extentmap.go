package fs

import (
	"encoding/binary"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// A minimal read-only extent walker, enough for Open to read the orphan
// file. The full extent engine lives in package extent, which builds on fs.

const (
	extentMagic     = 0xF30A
	extentHdrSize   = 12
	extentEntrySize = 12
	extentMaxDepth  = 5      // the kernel's EXT4_MAX_EXTENT_DEPTH
	extentInitMax   = 0x8000 // ee_len above this marks an unwritten extent
)

// physRun maps logical block lblk (and n after it) to physical block pblk.
type physRun struct {
	lblk uint32
	pblk uint64
	n    uint32
}

// extentRuns lists the mapped runs of an extent-mapped inode, in tree
// order, verifying headers and (with metadata_csum) index-block checksums.
func (f *FS) extentRuns(ino uint32, in *disk.Inode) ([]physRun, error) {
	var out []physRun
	nodes := uint64(0)
	var walk func(node []byte, where uint64, depth int) error
	walk = func(node []byte, where uint64, depth int) error {
		if len(node) < extentHdrSize {
			return corruptf("inode %d extent node at block %d: too short", ino, where)
		}
		magic := binary.LittleEndian.Uint16(node[0:])
		entries := int(binary.LittleEndian.Uint16(node[2:]))
		maxEnt := int(binary.LittleEndian.Uint16(node[4:]))
		d := int(binary.LittleEndian.Uint16(node[6:]))
		if magic != extentMagic || entries > maxEnt || extentHdrSize+maxEnt*extentEntrySize > len(node) || d != depth || d > extentMaxDepth {
			return corruptf("inode %d extent node at block %d: bad header (magic %#x, %d/%d entries, depth %d)", ino, where, magic, entries, maxEnt, d)
		}
		for e := 0; e < entries; e++ {
			ent := node[extentHdrSize+e*extentEntrySize:]
			lblk := binary.LittleEndian.Uint32(ent[0:])
			if d == 0 {
				n := uint32(binary.LittleEndian.Uint16(ent[4:]))
				if n > extentInitMax {
					n -= extentInitMax
				}
				p := uint64(binary.LittleEndian.Uint16(ent[6:]))<<32 | uint64(binary.LittleEndian.Uint32(ent[8:]))
				if p+uint64(n) > f.geo.BlocksCount {
					return corruptf("inode %d extent at logical %d: blocks %d+%d outside the filesystem", ino, lblk, p, n)
				}
				out = append(out, physRun{lblk: lblk, pblk: p, n: n})
				continue
			}
			child := uint64(binary.LittleEndian.Uint16(ent[8:]))<<32 | uint64(binary.LittleEndian.Uint32(ent[4:]))
			if child < f.geo.FirstDataBlock || child >= f.geo.BlocksCount {
				return corruptf("inode %d extent index at logical %d: block %d outside the filesystem", ino, lblk, child)
			}
			if nodes++; nodes > f.geo.BlocksCount {
				return corruptf("inode %d: extent tree has more nodes than the filesystem has blocks", ino)
			}
			b, err := f.ReadBlock(child)
			if err != nil {
				return err
			}
			if f.sb.HasMetadataCsum() {
				tail := extentHdrSize + int(binary.LittleEndian.Uint16(b[4:]))*extentEntrySize
				if tail+4 > len(b) {
					return corruptf("inode %d extent block %d: no room for its checksum", ino, child)
				}
				want := disk.Crc32c(f.InodeSeed(ino, in.Generation), b[:tail])
				if got := binary.LittleEndian.Uint32(b[tail:]); got != want {
					return corruptf("inode %d extent block %d: checksum %#08x, computed %#08x", ino, child, got, want)
				}
			}
			if err := walk(b, child, d-1); err != nil {
				return err
			}
		}
		return nil
	}
	root := in.Block[:]
	if len(root) < extentHdrSize {
		return nil, corruptf("inode %d: no extent root", ino)
	}
	depth := int(binary.LittleEndian.Uint16(root[6:]))
	if err := walk(root, 0, depth); err != nil {
		return nil, err
	}
	return out, nil
}
