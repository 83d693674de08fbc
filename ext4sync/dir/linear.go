package dir

// A linear directory has no index on disk, so without help every Lookup,
// Add and Remove reads all its blocks: adding n names is O(n²) (issue 14,
// item 7 measured 6k names added to a linear directory at 117 s). Dir
// therefore keeps, for a linear directory, a name -> block map built on
// the first lookup, and for every leaf the largest record it could take,
// learned when a search found no room there. Both only speed the search
// up: which entry is found and where a name goes stay what a scan from
// block 0 would give (the kernel's first fit).

// linearIndex is the in-memory index of a linear directory.
type linearIndex struct {
	// names maps a live name to its block; nil until built, and left nil
	// when the directory holds a name twice (a scan then decides).
	names map[string]uint32
	built bool
}

// lookupBlock returns the block that holds name in a linear directory,
// building the index on first use. ok false with use true means the name
// is absent; use false means the caller must scan.
func (d *Dir) lookupBlock(name []byte) (lblk uint32, ok, use bool, err error) {
	if !d.lin.built {
		if err := d.buildNames(); err != nil {
			return 0, false, false, err
		}
	}
	if d.lin.names == nil {
		return 0, false, false, nil
	}
	lblk, ok = d.lin.names[string(name)]
	return lblk, ok, true, nil
}

func (d *Dir) buildNames() error {
	names := map[string]uint32{}
	n := d.f.Blocks()
	for lblk := uint32(0); lblk < n; lblk++ {
		c, err := d.get(lblk, kindLeaf)
		if err != nil {
			return err
		}
		ents, err := d.dirents(lblk, c)
		if err != nil {
			return err
		}
		for _, de := range ents {
			if de.inode == 0 || (lblk == 0 && isDots(de.name)) {
				continue
			}
			if _, dup := names[string(de.name)]; dup {
				names = nil
				d.lin = linearIndex{built: true}
				return nil
			}
			names[string(de.name)] = lblk
		}
	}
	d.lin = linearIndex{names: names, built: true}
	return nil
}

// noteAdded records a name put into leaf lblk.
func (d *Dir) noteAdded(name []byte, lblk uint32) {
	if d.lin.names != nil && !d.indexed {
		d.lin.names[string(name)] = lblk
	}
}

// noteRemoved records a name taken out.
func (d *Dir) noteRemoved(name []byte) {
	if d.lin.names != nil {
		delete(d.lin.names, string(name))
	}
}

// forgetIndex drops what was learned (after a failed operation, or once
// the directory is an htree).
func (d *Dir) forgetIndex() {
	d.lin = linearIndex{}
	d.slack = map[uint32]int{}
}
