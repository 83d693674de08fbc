// Package dir reads and edits ext4 directories in place: linear
// (linked-list) directories and hash-indexed (htree) ones, with their
// metadata_csum checksums. It sees a directory only as numbered blocks
// through File, so it knows nothing of inodes, extents or allocation.
//
// Edits change as few blocks as they can: removing a name touches one
// block, adding one uses slack in the block it belongs to, and only when
// nothing fits does the directory grow (linear) or a leaf split (htree).
package dir

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// File is a directory's data, by logical block.
type File interface {
	Blocks() uint32
	ReadBlock(lblk uint32) ([]byte, error)
	WriteBlock(lblk uint32, b []byte) error
	// AppendBlock grows the directory by one zeroed block.
	AppendBlock() (lblk uint32, err error)
}

// Params describe the filesystem and the directory inode.
type Params struct {
	BlockSize   int
	Csum        bool      // metadata_csum: leaf tails and dx tails
	Seed        uint32    // the directory inode's checksum seed (disk.InodeSeed)
	FileType    bool      // filetype feature
	HashVersion uint8     // s_def_hash_version (used for new indexes only)
	HashSeed    [4]uint32 // s_hash_seed
	Unsigned    bool      // s_flags has EXT2_FLAGS_UNSIGNED_HASH
	Indexed     bool      // the inode has EXT4_INDEX_FL
	LargeDir    bool      // largedir feature: a third htree level
	Inodes      uint32    // s_inodes_count; 0 skips the inode bound check
	// DirIndex (the dir_index feature) lets Add turn a full one-block
	// linear directory into an htree, as the kernel does. When Indexed()
	// turns true the caller must set EXT4_INDEX_FL on the inode.
	DirIndex bool
}

type blockKind uint8

const (
	kindLeaf blockKind = iota + 1
	kindRoot
	kindNode
)

type cached struct {
	lblk  uint32
	b     []byte
	kind  blockKind
	dirty bool
}

// touch marks a block changed by the running operation.
func (d *Dir) touch(c *cached) {
	if !c.dirty {
		c.dirty = true
		d.dirty = append(d.dirty, c.lblk)
	}
	delete(d.slack, c.lblk)
}

// Dir is an open directory. It caches the blocks it reads; nothing else may
// change the directory's blocks while it is in use. Every operation either
// writes all the blocks it changed or, on error, none (a block it appended
// stays appended, zeroed or unreferenced).
type Dir struct {
	f        File
	p        Params
	indexed  bool
	hashVer  uint8 // effective hash version (unsigned variants resolved)
	levels   int   // indirect_levels
	cache    map[uint32]*cached
	dirty    []uint32 // blocks changed by the running operation
	appended []uint32 // blocks the running operation appended
	lin      linearIndex
	// slack is, for a leaf known to have no room for some entry, the
	// largest record it can take (see linear.go); a change forgets it.
	slack map[uint32]int
	// parses counts leaf blocks parsed, so tests can bound the work.
	parses int
	// testHash, when set and ok, overrides the name hash (tests force
	// collisions with it).
	testHash func(name []byte) (hash uint32, ok bool)
}

// minBlockSize is the smallest ext4 block.
const minBlockSize = 1024

func checkParams(p Params) error {
	if p.BlockSize < minBlockSize || p.BlockSize > maxBlockSize || p.BlockSize&(p.BlockSize-1) != 0 {
		return fmt.Errorf("dir: bad block size %d", p.BlockSize)
	}
	return nil
}

// Open reads a directory's first block and, for an indexed directory, its
// dx_root.
func Open(f File, p Params) (*Dir, error) {
	if err := checkParams(p); err != nil {
		return nil, err
	}
	d := &Dir{f: f, p: p, indexed: p.Indexed, cache: map[uint32]*cached{}}
	if f.Blocks() == 0 {
		return nil, fmt.Errorf("dir: directory has no blocks")
	}
	if !d.indexed {
		if _, err := d.get(0, kindLeaf); err != nil {
			return nil, err
		}
		return d, nil
	}
	if _, _, err := d.root(); err != nil {
		return nil, err
	}
	return d, nil
}

// Indexed reports whether the directory is an htree.
func (d *Dir) Indexed() bool { return d.indexed }

// get returns a block, reading and verifying it on first use.
func (d *Dir) get(lblk uint32, kind blockKind) (*cached, error) {
	if c, ok := d.cache[lblk]; ok {
		if c.kind != kind {
			return nil, fmt.Errorf("dir: block %d used both as %s and %s", lblk, c.kind, kind)
		}
		return c, nil
	}
	if lblk >= d.f.Blocks() {
		return nil, fmt.Errorf("dir: block %d beyond the directory's %d blocks", lblk, d.f.Blocks())
	}
	b, err := d.f.ReadBlock(lblk)
	if err != nil {
		return nil, fmt.Errorf("dir: read block %d: %w", lblk, err)
	}
	if len(b) != d.p.BlockSize {
		return nil, fmt.Errorf("dir: block %d is %d bytes, want %d", lblk, len(b), d.p.BlockSize)
	}
	b = append([]byte(nil), b...)
	if d.p.Csum {
		if err := d.verify(lblk, b, kind); err != nil {
			return nil, err
		}
	}
	c := &cached{lblk: lblk, b: b, kind: kind}
	d.cache[lblk] = c
	return c, nil
}

func (k blockKind) String() string {
	switch k {
	case kindLeaf:
		return "leaf"
	case kindRoot:
		return "dx_root"
	case kindNode:
		return "dx_node"
	}
	return "unknown"
}

func (d *Dir) verify(lblk uint32, b []byte, kind blockKind) error {
	switch kind {
	case kindRoot:
		return verifyDxChecksum(d.p.Seed, b, rootCountOff, lblk)
	case kindNode:
		return verifyDxChecksum(d.p.Seed, b, nodeCountOff, lblk)
	}
	if !hasTail(b) {
		return fmt.Errorf("dir: block %d: no space for directory leaf checksum", lblk)
	}
	got := binary.LittleEndian.Uint32(b[len(b)-tailSize+tailChecksum:])
	if want := leafChecksum(d.p.Seed, b); got != want {
		return fmt.Errorf("dir: block %d: leaf checksum %#08x, want %#08x", lblk, got, want)
	}
	return nil
}

// fresh registers a newly appended (zeroed) block.
func (d *Dir) fresh(kind blockKind) (uint32, *cached, error) {
	lblk, err := d.f.AppendBlock()
	if err != nil {
		return 0, nil, fmt.Errorf("dir: grow directory: %w", err)
	}
	if _, ok := d.cache[lblk]; ok {
		return 0, nil, fmt.Errorf("dir: appended block %d is already in use", lblk)
	}
	d.appended = append(d.appended, lblk)
	c := &cached{lblk: lblk, b: make([]byte, d.p.BlockSize), kind: kind}
	d.cache[lblk] = c
	d.touch(c)
	return lblk, c, nil
}

// leafEnd is where entries stop in a leaf block.
func (d *Dir) leafEnd() int {
	if d.p.Csum {
		return d.p.BlockSize - tailSize
	}
	return d.p.BlockSize
}

// dirents parses a leaf block.
func (d *Dir) dirents(lblk uint32, c *cached) ([]dirent, error) {
	d.parses++
	return parseDirents(c.b, d.leafEnd(), d.p.BlockSize, lblk, d.p.Inodes)
}

// run applies op and writes the blocks it dirtied, in block order; on error
// it forgets every change.
func (d *Dir) run(op func() error) error {
	d.dirty, d.appended = nil, nil
	indexed := d.indexed
	if err := op(); err != nil {
		d.abort(indexed)
		return err
	}
	lblks := d.dirty
	d.dirty = nil
	sort.Slice(lblks, func(i, j int) bool { return lblks[i] < lblks[j] })
	for _, l := range lblks {
		c := d.cache[l]
		if err := d.seal(l, c); err != nil {
			d.abort(indexed)
			return err
		}
		if err := d.f.WriteBlock(l, c.b); err != nil {
			d.abort(indexed)
			return fmt.Errorf("dir: write block %d: %w", l, err)
		}
		c.dirty = false
	}
	return nil
}

// abort forgets a failed operation's changes. Blocks it appended cannot be
// given back, so they become empty leaves: valid in a linear directory, and
// in an htree merely unreferenced (e2fsck -D folds them away).
func (d *Dir) abort(indexed bool) {
	d.cache = map[uint32]*cached{}
	d.indexed = indexed
	d.forgetIndex()
	for _, l := range d.appended {
		c := &cached{lblk: l, b: make([]byte, d.p.BlockSize), kind: kindLeaf}
		d.initLeaf(c.b)
		if d.seal(l, c) == nil {
			_ = d.f.WriteBlock(l, c.b) // best effort; the operation's error is what matters
		}
	}
	d.dirty, d.appended = nil, nil
}

// seal sets a dirty block's checksum.
func (d *Dir) seal(lblk uint32, c *cached) error {
	if !d.p.Csum {
		return nil
	}
	switch c.kind {
	case kindLeaf:
		putTail(c.b)
		binary.LittleEndian.PutUint32(c.b[len(c.b)-tailSize+tailChecksum:], leafChecksum(d.p.Seed, c.b))
	case kindRoot, kindNode:
		off := nodeCountOff
		if c.kind == kindRoot {
			off = rootCountOff
		}
		dx, err := parseDx(c.b, off, true, lblk, d.f.Blocks())
		if err != nil {
			return err
		}
		setDxChecksum(d.p.Seed, c.b, dx)
	}
	return nil
}

// validName enforces ext4's rules for a name in a directory.
func validName(name string) error {
	switch {
	case len(name) == 0 || len(name) > MaxNameLen:
		return fmt.Errorf("dir: name %q: length %d not in 1..%d", name, len(name), MaxNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("dir: name %q is reserved", name)
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return fmt.Errorf("dir: name %q contains '/' or NUL", name)
		}
	}
	return nil
}

func isDots(name []byte) bool {
	return string(name) == "." || string(name) == ".."
}

func (d *Dir) entryOf(de dirent) Entry {
	e := Entry{Name: string(de.name), Inode: de.inode}
	if d.p.FileType {
		e.Type = de.ftype
	}
	return e
}
