package check

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// e2fsck's htree bookkeeping per directory block (struct dx_dirblock_info).
const (
	dxReferenced = 1 << iota
	dxDupRef
	dxFirst
	dxLast
)

const (
	dxBlockMask    = 0x0FFFFFFF // EXT4_DX_BLOCK_MASK
	dxLastHash     = 0xFFFFFFFE
	dxTailSize     = 8
	dxEntrySize    = 8
	htreeMaxLevels = 2 // ext2_dir_htree_level without large_dir
	maxHtreeDepth  = 32000
)

// dxBlock is what pass 2 learns about one block of an indexed directory:
// its kind, the index entry pointing at it (parent, previous sibling, the
// hash range the entry gives it) and the hashes found in it.
type dxBlock struct {
	kind             uint8
	flags            uint8
	pblk             uint64
	parent, previous uint32
	nodeMin, nodeMax uint32
	min, max         uint32
}

type htree struct {
	ino     uint32
	blocks  []dxBlock
	hashVer uint8
	seed    [4]uint32
	levels  int
}

func (h *htree) where(lblk uint32) string {
	return fmt.Sprintf("directory inode %d htree block %d (logical %d)", h.ino, h.blocks[lblk].pblk, lblk)
}

// root checks the dx_root_info (handle_htree and pass 2's root checks).
func (h *htree) root(c *checker, b []byte, where string) error {
	if !c.sb.FeatureCompat.Has(disk.CompatDirIndex) {
		return bad(where, "indexed directory without the dir_index feature")
	}
	info := dir.DxRootInfoOf(b)
	switch {
	case info.ReservedZero != 0 || info.InfoLength < 8:
		return bad(where, "htree root info: reserved %#x, length %d", info.ReservedZero, info.InfoLength)
	case info.IndirectLevels >= htreeMaxLevels:
		return bad(where, "htree of %d indirect levels without large_dir", info.IndirectLevels)
	case info.HashVersion > dir.HashTea:
		return bad(where, "htree hash version %d", info.HashVersion)
	case info.Flags&dir.HashFlagIncompat != 0:
		return bad(where, "htree root flags %#x", info.Flags)
	}
	h.hashVer = info.HashVersion
	if c.sb.Flags&disk.FlagUnsignedHash != 0 {
		h.hashVer += dir.HashLegacyUnsigned
	}
	h.seed = c.sb.HashSeed
	h.levels = int(info.IndirectLevels)
	return nil
}

// note records the hash of a name found in block lblk.
func (h *htree) note(lblk uint32, name []byte, where dirWhere) error {
	hs, err := dir.NameHash(h.hashVer, h.seed, name)
	if err != nil {
		return bad(where.String(), "%v", err)
	}
	x := &h.blocks[lblk]
	x.min, x.max = min(x.min, hs.Major), max(x.max, hs.Major)
	return nil
}

// index is parse_int_node: the count and limit of a dx_root or dx_node,
// its entries' order and targets, and what each entry tells its child.
func (h *htree) index(c *checker, lblk uint32, b []byte, root bool, where string) error {
	x := dir.ParseDxIndex(b, root)
	csum := 0
	if c.sb.HasMetadataCsum() {
		csum = dxTailSize
	}
	expect := (len(b) - csum - dir.DxCountOffset(b, root)) / dxEntrySize
	if x.Limit != expect {
		return bad(where, "dx limit %d, want %d", x.Limit, expect)
	}
	if x.Count > expect {
		return bad(where, "dx count %d exceeds the limit %d", x.Count, expect)
	}
	lo, hi := ^uint32(0), uint32(0)
	hash := uint32(0)
	for i, e := range x.Entries {
		prev := hash
		hash = 0
		if i > 0 {
			hash = e.Hash &^ 1
		}
		blk := e.Block & dxBlockMask
		if int(blk) >= len(h.blocks) {
			return bad(where, "dx entry %d points at block %d, but the directory has %d", i, blk, len(h.blocks))
		}
		if hash < prev {
			return bad(where, "dx entry %d hash %#x below the previous %#x", i, hash, prev)
		}
		ch := &h.blocks[blk]
		if ch.flags&dxReferenced != 0 {
			ch.flags |= dxDupRef
		} else {
			ch.flags |= dxReferenced
			ch.parent = lblk
		}
		ch.previous = 0
		if i > 0 {
			ch.previous = x.Entries[i-1].Block & dxBlockMask
		}
		lo, hi = min(lo, hash), max(hi, hash)
		ch.nodeMin = hash
		if i+1 < len(x.Entries) {
			ch.nodeMax = x.Entries[i+1].Hash &^ 1
		} else {
			ch.nodeMax = dxLastHash
			ch.flags |= dxLast
		}
		if i == 0 {
			ch.flags |= dxFirst
		}
	}
	h.blocks[lblk].min, h.blocks[lblk].max = lo, hi
	return nil
}

// check runs pass 2's whole-tree checks once every block is read: each
// block lies in the hash range its index entry gives it, every leaf is at
// the depth the root says, and every block is referenced exactly once.
func (h *htree) check() error {
	r := &h.blocks[0]
	if r.flags&dxReferenced != 0 {
		r.flags |= dxDupRef
	} else {
		r.flags |= dxReferenced
	}
	h.updateParents(kindLeaf)
	h.updateParents(kindNode)
	for b := range h.blocks {
		x := &h.blocks[b]
		lblk := uint32(b)
		switch {
		case x.flags&dxFirst == 0 && x.min < x.nodeMin:
			return bad(h.where(lblk), "holds hash %#x, below its index range from %#x", x.min, x.nodeMin)
		case x.kind == kindLeaf && h.depth(lblk) != h.levels+1:
			return bad(h.where(lblk), "leaf at depth %d, but the index has %d levels", h.depth(lblk), h.levels+1)
		case b != 0 && x.max > x.nodeMax:
			return bad(h.where(lblk), "holds hash %#x, above its index range up to %#x", x.max, x.nodeMax)
		case x.flags&dxReferenced == 0:
			return bad(h.where(lblk), "not referenced by the htree index")
		case x.flags&dxDupRef != 0:
			return bad(h.where(lblk), "referenced twice by the htree index")
		}
	}
	return nil
}

// updateParents is e2fsck's update_parents: a first child gives its
// parent its low hash (and the parent's previous sibling its upper
// bound), a last child its high hash.
func (h *htree) updateParents(kind uint8) {
	for b := range h.blocks {
		x := &h.blocks[b]
		if x.kind != kind {
			continue
		}
		p := &h.blocks[x.parent]
		if x.flags&dxFirst != 0 {
			p.min = x.min
			if p.previous != 0 {
				h.blocks[p.previous].nodeMax = p.min
			}
		}
		if x.flags&dxLast != 0 {
			p.max = x.max
		}
	}
}

// depth counts index levels from a block up to the root.
func (h *htree) depth(lblk uint32) int {
	d := 0
	for h.blocks[lblk].kind != kindRoot && d < maxHtreeDepth {
		lblk = h.blocks[lblk].parent
		d++
	}
	return d
}
