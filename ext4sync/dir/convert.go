package dir

import (
	"encoding/binary"
	"fmt"
)

// makeIndexed turns a full one-block linear directory into an htree
// (make_indexed_dir): the names move to a new block 1 and block 0 becomes
// a dx_root, keeping "." and "..", with one index entry for block 1. The
// caller's Add then goes through the index and splits block 1 as needed.
func (d *Dir) makeIndexed() error {
	if d.p.HashVersion > HashTea {
		return fmt.Errorf("dir: index directory: unsupported default hash version %d", d.p.HashVersion)
	}
	c0, err := d.get(0, kindLeaf)
	if err != nil {
		return err
	}
	ents, err := d.dirents(0, c0)
	if err != nil {
		return err
	}
	if len(ents) < 2 || string(ents[0].name) != "." || ents[0].recLen != dotRecLen ||
		string(ents[1].name) != ".." {
		return fmt.Errorf("dir: index directory: block 0 does not start with \".\" and \"..\"")
	}
	var live []mapEntry
	for _, de := range ents[2:] {
		if de.inode != 0 {
			live = append(live, mapEntry{de: de})
		}
	}
	lblk, c1, err := d.fresh(kindLeaf)
	if err != nil {
		return err
	}
	if lblk != 1 {
		return fmt.Errorf("dir: index directory: new block is %d, want 1", lblk)
	}
	old := append([]byte(nil), c0.b...)
	d.pack(c1.b, old, live)

	b := c0.b
	clear(b[rootDotDot+dotRecLen:])
	putRecLen(b, rootDotDot, len(b)-dotRecLen)
	b[rootHashVersion] = d.p.HashVersion
	b[rootInfoLength] = dxInfoLength
	root := &dxBlock{
		countOff: rootCountOff,
		limit:    dxLimitFor(len(b), rootCountOff, d.p.Csum),
		entries:  []dxEntry{{block: lblk}},
	}
	putDx(b, root)
	binary.LittleEndian.PutUint32(b[rootInfo:], 0)
	c0.kind = kindRoot
	d.touch(c0)
	d.indexed = true
	d.lin = linearIndex{}
	_, _, err = d.root() // sets the hash version and levels, and checks the result
	return err
}
