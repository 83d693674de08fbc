package dir

import (
	"encoding/binary"
	"fmt"
)

// place is where a name was found.
type place struct {
	lblk uint32
	c    *cached
	ents []dirent
	i    int
}

// Entries lists the directory's names (not "." and ".."), in block order
// and, within a block, in on-disk order.
func (d *Dir) Entries() ([]Entry, error) {
	skip := map[uint32]bool{}
	first := uint32(0)
	if d.indexed {
		nodes, err := d.indexNodes()
		if err != nil {
			return nil, err
		}
		skip = nodes
		first = 1
	}
	var out []Entry
	n := d.f.Blocks()
	for lblk := first; lblk < n; lblk++ {
		if skip[lblk] {
			continue
		}
		c, err := d.get(lblk, kindLeaf)
		if err != nil {
			return nil, err
		}
		ents, err := d.dirents(lblk, c)
		if err != nil {
			return nil, err
		}
		for _, de := range ents {
			if de.inode == 0 || (lblk == 0 && isDots(de.name)) {
				continue
			}
			out = append(out, d.entryOf(de))
		}
	}
	return out, nil
}

// Lookup finds name.
func (d *Dir) Lookup(name string) (Entry, bool, error) {
	if err := validName(name); err != nil {
		return Entry{}, false, err
	}
	p, ok, err := d.find([]byte(name))
	if err != nil || !ok {
		return Entry{}, false, err
	}
	return d.entryOf(p.ents[p.i]), true, nil
}

// find locates a live entry by name.
func (d *Dir) find(name []byte) (place, bool, error) {
	if d.indexed {
		return d.findIndexed(name)
	}
	if lblk, ok, use, err := d.lookupBlock(name); err != nil {
		return place{}, false, err
	} else if use {
		if !ok {
			return place{}, false, nil
		}
		return d.findInLeaf(lblk, name)
	}
	n := d.f.Blocks()
	for lblk := uint32(0); lblk < n; lblk++ {
		p, ok, err := d.findInLeaf(lblk, name)
		if err != nil || ok {
			return p, ok, err
		}
	}
	return place{}, false, nil
}

func (d *Dir) findInLeaf(lblk uint32, name []byte) (place, bool, error) {
	c, err := d.get(lblk, kindLeaf)
	if err != nil {
		return place{}, false, err
	}
	ents, err := d.dirents(lblk, c)
	if err != nil {
		return place{}, false, err
	}
	for i, de := range ents {
		if de.inode != 0 && string(de.name) == string(name) {
			return place{lblk: lblk, c: c, ents: ents, i: i}, true, nil
		}
	}
	return place{}, false, nil
}

// Add inserts a new name. It fails if the name exists.
func (d *Dir) Add(e Entry) error {
	if err := validName(e.Name); err != nil {
		return err
	}
	if e.Inode == 0 {
		return fmt.Errorf("dir: add %q: inode 0", e.Name)
	}
	if e.Type > typeMax {
		return fmt.Errorf("dir: add %q: bad file type %d", e.Name, e.Type)
	}
	if !d.p.FileType {
		e.Type = TypeUnknown
	}
	name := []byte(e.Name)
	return d.run(func() error {
		if old, ok, err := d.find(name); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("dir: add %q: name exists (inode %d, block %d)", e.Name, old.ents[old.i].inode, old.lblk)
		}
		if d.indexed {
			return d.addIndexed(name, e)
		}
		return d.addLinear(name, e)
	})
}

func (d *Dir) addLinear(name []byte, e Entry) error {
	n := d.f.Blocks()
	for lblk := uint32(0); lblk < n; lblk++ {
		c, err := d.get(lblk, kindLeaf)
		if err != nil {
			return err
		}
		ok, err := d.insertInto(lblk, c, name, e)
		if err != nil || ok {
			return err
		}
	}
	if n == 1 && d.p.DirIndex {
		if err := d.makeIndexed(); err != nil {
			return err
		}
		return d.addIndexed(name, e)
	}
	lblk, c, err := d.fresh(kindLeaf)
	if err != nil {
		return err
	}
	d.initLeaf(c.b)
	ok, err := d.insertInto(lblk, c, name, e)
	if err == nil && !ok {
		err = fmt.Errorf("dir: add %q: does not fit an empty block", e.Name)
	}
	return err
}

// initLeaf makes b an empty leaf: one unused entry over the whole block.
func (d *Dir) initLeaf(b []byte) {
	clear(b)
	putRecLen(b, 0, d.leafEnd())
}

// insertInto puts the entry into the first slack in the block that fits it.
func (d *Dir) insertInto(lblk uint32, c *cached, name []byte, e Entry) (bool, error) {
	need := recLenFor(len(name))
	if s, ok := d.slack[lblk]; ok && s < need {
		return false, nil
	}
	ents, err := d.dirents(lblk, c)
	if err != nil {
		return false, err
	}
	most := 0
	for _, de := range ents {
		used := 0
		if de.inode != 0 {
			used = recLenFor(len(de.name))
		}
		if de.recLen-used < need {
			most = max(most, de.recLen-used)
			continue
		}
		off, rl := de.off, de.recLen
		if used > 0 {
			putRecLen(c.b, off, used)
			off, rl = off+used, rl-used
		}
		clear(c.b[off : off+rl])
		putDirent(c.b, off, rl, e.Inode, name, e.Type)
		d.touch(c)
		d.noteAdded(name, lblk)
		return true, nil
	}
	if d.slack == nil {
		d.slack = map[uint32]int{}
	}
	d.slack[lblk] = most
	return false, nil
}

// Remove deletes name, merging its space into the previous entry of its
// block (or marking the block's first entry unused).
func (d *Dir) Remove(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	return d.run(func() error {
		p, ok, err := d.find([]byte(name))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("dir: remove %q: no such entry", name)
		}
		de := p.ents[p.i]
		d.noteRemoved(de.name)
		b := p.c.b
		if p.i > 0 {
			prev := p.ents[p.i-1]
			putRecLen(b, prev.off, prev.recLen+de.recLen)
			clear(b[de.off : de.off+de.recLen])
		} else {
			binary.LittleEndian.PutUint32(b[de.off+deInode:], 0)
			b[de.off+deNameLen] = 0
			b[de.off+deFileType] = 0
			clear(b[de.off+deName : de.off+de.recLen])
		}
		d.touch(p.c)
		return nil
	})
}

// SetParent rewrites the ".." entry.
func (d *Dir) SetParent(ino uint32) error {
	if ino == 0 {
		return fmt.Errorf("dir: set parent: inode 0")
	}
	return d.run(func() error {
		if d.indexed {
			c, _, err := d.root() // checks the fake "." and ".." entries
			if err != nil {
				return err
			}
			binary.LittleEndian.PutUint32(c.b[rootDotDot+deInode:], ino)
			d.touch(c)
			return nil
		}
		c, err := d.get(0, kindLeaf)
		if err != nil {
			return err
		}
		ents, err := d.dirents(0, c)
		if err != nil {
			return err
		}
		if len(ents) < 2 || string(ents[1].name) != ".." {
			return fmt.Errorf("dir: block 0: second entry is not \"..\"")
		}
		binary.LittleEndian.PutUint32(c.b[ents[1].off+deInode:], ino)
		d.touch(c)
		return nil
	})
}

// Init writes a new, empty, linear directory: one block with "." and "..".
// The directory must have no blocks or exactly one (which is overwritten).
func Init(f File, p Params, self, parent uint32) error {
	if err := checkParams(p); err != nil {
		return err
	}
	if p.Indexed {
		return fmt.Errorf("dir: init: a new directory is linear; clear Indexed")
	}
	if self == 0 || parent == 0 {
		return fmt.Errorf("dir: init: inode 0 (self %d, parent %d)", self, parent)
	}
	switch f.Blocks() {
	case 0:
		lblk, err := f.AppendBlock()
		if err != nil {
			return fmt.Errorf("dir: init: grow directory: %w", err)
		}
		if lblk != 0 {
			return fmt.Errorf("dir: init: first appended block is %d, want 0", lblk)
		}
	case 1:
	default:
		return fmt.Errorf("dir: init: directory already has %d blocks", f.Blocks())
	}
	d := &Dir{f: f, p: p, cache: map[uint32]*cached{}}
	ft := TypeUnknown
	if p.FileType {
		ft = TypeDir
	}
	return d.run(func() error {
		c := &cached{lblk: 0, b: make([]byte, p.BlockSize), kind: kindLeaf}
		d.cache[0] = c
		d.touch(c)
		putDirent(c.b, 0, dotRecLen, self, []byte("."), ft)
		putDirent(c.b, dotRecLen, d.leafEnd()-dotRecLen, parent, []byte(".."), ft)
		return nil
	})
}
