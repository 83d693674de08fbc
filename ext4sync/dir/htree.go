package dir

import (
	"fmt"
	"sort"
)

// frame is one level of a path from the root to a leaf.
type frame struct {
	lblk uint32
	c    *cached
	dx   *dxBlock
	at   int
}

// maxLevels is how many index levels (root included) the tree may have.
func (d *Dir) maxLevels() int {
	if d.p.LargeDir {
		return maxLevelsLarge
	}
	return maxLevelsNoLarge
}

// root reads and checks the dx_root.
func (d *Dir) root() (*cached, *dxBlock, error) {
	c, err := d.get(0, kindRoot)
	if err != nil {
		return nil, nil, err
	}
	b := c.b
	if string(b[deName:deName+1]) != "." || b[deNameLen] != 1 || getRecLen(b, 0, len(b)) != dotRecLen {
		return nil, nil, fmt.Errorf("dir: htree root: bad \".\" entry")
	}
	if string(b[rootDotDot+deName:rootDotDot+deName+dotDotNameLen]) != ".." || b[rootDotDot+deNameLen] != dotDotNameLen ||
		getRecLen(b, rootDotDot, len(b)) != len(b)-dotRecLen {
		return nil, nil, fmt.Errorf("dir: htree root: bad \"..\" entry")
	}
	if b[rootInfoLength] != dxInfoLength {
		return nil, nil, fmt.Errorf("dir: htree root: info_length %d, want %d", b[rootInfoLength], dxInfoLength)
	}
	if b[rootFlags]&rootFlagsUnimplemented != 0 {
		return nil, nil, fmt.Errorf("dir: htree root: unimplemented hash flags %#x", b[rootFlags])
	}
	hv := b[rootHashVersion]
	if hv > HashTea {
		return nil, nil, fmt.Errorf("dir: htree root: unsupported hash version %d", hv)
	}
	if d.p.Unsigned {
		hv += unsignedHashDistance
	}
	levels := int(b[rootIndirect])
	if levels >= d.maxLevels() {
		return nil, nil, fmt.Errorf("dir: htree root: indirect_levels %d exceeds %d", levels, d.maxLevels()-1)
	}
	dx, err := parseDx(b, rootCountOff, d.p.Csum, 0, d.f.Blocks())
	if err != nil {
		return nil, nil, err
	}
	d.hashVer, d.levels = hv, levels
	return c, dx, nil
}

// node reads and checks an interior index block.
func (d *Dir) node(lblk uint32) (*cached, *dxBlock, error) {
	c, err := d.get(lblk, kindNode)
	if err != nil {
		return nil, nil, err
	}
	if getRecLen(c.b, 0, len(c.b)) != len(c.b) || c.b[deNameLen] != 0 {
		return nil, nil, fmt.Errorf("dir: htree node %d: bad fake entry", lblk)
	}
	dx, err := parseDx(c.b, nodeCountOff, d.p.Csum, lblk, d.f.Blocks())
	if err != nil {
		return nil, nil, err
	}
	return c, dx, nil
}

// probe walks from the root to the leaf that holds hash (dx_probe).
func (d *Dir) probe(hash uint32) ([]frame, uint32, error) {
	c, dx, err := d.root()
	if err != nil {
		return nil, 0, err
	}
	frames := []frame{{lblk: 0, c: c, dx: dx, at: dx.find(hash)}}
	for lvl := 0; lvl < d.levels; lvl++ {
		f := frames[len(frames)-1]
		blk := f.dx.entries[f.at].block
		c, dx, err := d.node(blk)
		if err != nil {
			return nil, 0, err
		}
		frames = append(frames, frame{lblk: blk, c: c, dx: dx, at: dx.find(hash)})
	}
	f := frames[len(frames)-1]
	return frames, f.dx.entries[f.at].block, nil
}

// nextLeaf moves the path to the following leaf (ext4_htree_next_block) and
// returns it with the hash its index entry starts at.
func (d *Dir) nextLeaf(frames []frame) (uint32, uint32, bool, error) {
	i := len(frames) - 1
	for i >= 0 && frames[i].at+1 >= len(frames[i].dx.entries) {
		i--
	}
	if i < 0 {
		return 0, 0, false, nil
	}
	frames[i].at++
	start := frames[i].dx.entries[frames[i].at].hash
	for j := i + 1; j < len(frames); j++ {
		blk := frames[j-1].dx.entries[frames[j-1].at].block
		c, dx, err := d.node(blk)
		if err != nil {
			return 0, 0, false, err
		}
		frames[j] = frame{lblk: blk, c: c, dx: dx, at: 0}
	}
	f := frames[len(frames)-1]
	return f.dx.entries[f.at].block, start, true, nil
}

func (d *Dir) hash(name []byte) (uint32, error) {
	if d.testHash != nil {
		if h, ok := d.testHash(name); ok {
			return h, nil
		}
	}
	h, err := NameHash(d.hashVer, d.p.HashSeed, name)
	return h.Major, err
}

// findIndexed looks name up through the index, following collision chains.
func (d *Dir) findIndexed(name []byte) (place, bool, error) {
	if _, _, err := d.root(); err != nil {
		return place{}, false, err
	}
	h, err := d.hash(name)
	if err != nil {
		return place{}, false, err
	}
	frames, leaf, err := d.probe(h)
	if err != nil {
		return place{}, false, err
	}
	for range d.f.Blocks() {
		p, ok, err := d.findInLeaf(leaf, name)
		if err != nil || ok {
			return p, ok, err
		}
		next, start, more, err := d.nextLeaf(frames)
		if err != nil || !more || start&^1 != h {
			return place{}, false, err
		}
		leaf = next
	}
	return place{}, false, fmt.Errorf("dir: htree: collision chain longer than the directory")
}

// indexNodes returns the interior index blocks.
func (d *Dir) indexNodes() (map[uint32]bool, error) {
	_, dx, err := d.root()
	if err != nil {
		return nil, err
	}
	nodes := map[uint32]bool{}
	level := []*dxBlock{dx}
	for lvl := 0; lvl < d.levels; lvl++ {
		var next []*dxBlock
		for _, x := range level {
			for _, e := range x.entries {
				if nodes[e.block] {
					return nil, fmt.Errorf("dir: htree node %d referenced twice", e.block)
				}
				nodes[e.block] = true
				_, n, err := d.node(e.block)
				if err != nil {
					return nil, err
				}
				next = append(next, n)
			}
		}
		level = next
	}
	return nodes, nil
}

// maxAddRounds bounds the split-and-retry loop of one Add: each round
// either inserts, splits a leaf, or grows the index by one node or level.
const maxAddRounds = 16

func (d *Dir) addIndexed(name []byte, e Entry) error {
	for range maxAddRounds {
		h, err := d.hash(name)
		if err != nil {
			return err
		}
		frames, leaf, err := d.probe(h)
		if err != nil {
			return err
		}
		c, err := d.get(leaf, kindLeaf)
		if err != nil {
			return err
		}
		ok, err := d.insertInto(leaf, c, name, e)
		if err != nil || ok {
			return err
		}
		grew, err := d.growIndex(frames)
		if err != nil {
			return fmt.Errorf("dir: add %q: %w", e.Name, err)
		}
		if grew {
			continue
		}
		if err := d.splitLeaf(frames, leaf, c); err != nil {
			return fmt.Errorf("dir: add %q: %w", e.Name, err)
		}
	}
	return fmt.Errorf("dir: add %q: no room after %d splits", e.Name, maxAddRounds)
}

// growIndex makes room for one more entry in the bottom index block: it
// splits the lowest full block whose parent has room, or, when every block
// up to the root is full, adds a level under the root. It reports whether
// it changed the index (the caller then probes again).
func (d *Dir) growIndex(frames []frame) (bool, error) {
	i := len(frames) - 1
	if !frames[i].dx.full() {
		return false, nil
	}
	for i > 0 && frames[i-1].dx.full() {
		i--
	}
	if i == 0 {
		return true, d.addLevel(frames[0])
	}
	return true, d.splitNode(frames[i-1], frames[i])
}

// addLevel moves the root's entries into a new node the root points to.
func (d *Dir) addLevel(root frame) error {
	if d.levels+1 >= d.maxLevels() {
		return fmt.Errorf("dir: htree index full at %d levels (largedir %v)", d.levels+1, d.p.LargeDir)
	}
	lblk, c, err := d.fresh(kindNode)
	if err != nil {
		return err
	}
	initNode(c.b)
	n := &dxBlock{countOff: nodeCountOff, limit: dxLimitFor(d.p.BlockSize, nodeCountOff, d.p.Csum)}
	n.entries = append([]dxEntry(nil), root.dx.entries...)
	putDx(c.b, n)
	root.dx.entries = []dxEntry{{block: lblk}}
	putDx(root.c.b, root.dx)
	d.levels++
	root.c.b[rootIndirect] = byte(d.levels)
	d.touch(root.c)
	return nil
}

// splitNode moves the upper half of a full node into a new node and indexes
// it in the parent right after the split node.
func (d *Dir) splitNode(parent, full frame) error {
	lblk, c, err := d.fresh(kindNode)
	if err != nil {
		return err
	}
	initNode(c.b)
	keep := len(full.dx.entries) / 2
	moved := full.dx.entries[keep:]
	n := &dxBlock{countOff: nodeCountOff, limit: full.dx.limit, entries: append([]dxEntry(nil), moved...)}
	hash2 := moved[0].hash
	n.entries[0].hash = 0
	putDx(c.b, n)
	full.dx.entries = full.dx.entries[:keep]
	putDx(full.c.b, full.dx)
	d.touch(full.c)
	parent.dx.insertAfter(parent.at, dxEntry{hash: hash2, block: lblk})
	putDx(parent.c.b, parent.dx)
	d.touch(parent.c)
	return nil
}

// mapEntry is a live leaf entry with its hash, for splitting.
type mapEntry struct {
	hash uint32
	de   dirent
}

// splitLeaf moves the upper half (by hash, about half the bytes) of a full
// leaf into a new block and indexes it (do_split). The bottom index block
// has room: growIndex ran first.
func (d *Dir) splitLeaf(frames []frame, lblk uint32, c *cached) error {
	ents, err := d.dirents(lblk, c)
	if err != nil {
		return err
	}
	var m []mapEntry
	for _, de := range ents {
		if de.inode == 0 {
			continue
		}
		h, err := d.hash(de.name)
		if err != nil {
			return err
		}
		m = append(m, mapEntry{hash: h, de: de})
	}
	if len(m) < 2 {
		return fmt.Errorf("dir: htree leaf %d: %d live entries, cannot split", lblk, len(m))
	}
	sort.SliceStable(m, func(i, j int) bool { return m[i].hash < m[j].hash })
	half := d.p.BlockSize / 2
	size, move := 0, 0
	i := len(m) - 1
	for ; i >= 0; i-- {
		sz := recLenFor(len(m[i].de.name))
		if size+sz/2 > half {
			break
		}
		size += sz
		move++
	}
	split := len(m) / 2
	if i > 0 {
		split = len(m) - move
	}
	hash2 := m[split].hash
	if hash2 == m[split-1].hash {
		hash2 |= 1 // collision: the chain continues into the new block
	}
	nlblk, nc, err := d.fresh(kindLeaf)
	if err != nil {
		return err
	}
	old := make([]byte, len(c.b))
	copy(old, c.b)
	d.pack(nc.b, old, m[split:])
	d.pack(c.b, old, m[:split])
	d.touch(c)
	bottom := frames[len(frames)-1]
	bottom.dx.insertAfter(bottom.at, dxEntry{hash: hash2, block: nlblk})
	putDx(bottom.c.b, bottom.dx)
	d.touch(bottom.c)
	return nil
}

// pack writes entries (read from src) tightly into dst, the last one taking
// the rest of the block.
func (d *Dir) pack(dst, src []byte, m []mapEntry) {
	clear(dst)
	end := d.leafEnd()
	off := 0
	for k, me := range m {
		rl := recLenFor(len(me.de.name))
		if k == len(m)-1 {
			rl = end - off
		}
		name := src[me.de.off+deName : me.de.off+deName+len(me.de.name)]
		putDirent(dst, off, rl, me.de.inode, name, me.de.ftype)
		off += rl
	}
	if len(m) == 0 {
		putRecLen(dst, 0, end)
	}
}
