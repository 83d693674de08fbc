// Package written is what a sync wrote, as the engine records it for
// whoever prices the release (blockmap/measure): the byte ranges of the
// new image that may differ from the base, and the blocks each path's
// change wrote with what each block is for. It imports nothing, so the
// cost model can read it without depending on the engine.
package written

// Range is the byte range [Off, Off+Len) of an image.
type Range struct {
	Off, Len int64
}

// Kind is what a block a path's change wrote is, read off the inode the
// path was charged with once the sync is done.
type Kind uint8

const (
	// Entries: none of the inode's own blocks. The only such writes the
	// sync charges to a path are edits of its parent directory's entries
	// (removing a path rewrites the parent's entry block).
	Entries       Kind = iota
	Data               // the inode's data: file content, or a symlink's target
	DirectoryData      // the inode's data, the inode being a directory
	ExtentTree         // a node of the inode's extent tree
	XattrBlock         // the inode's external xattr block
)

// Path is what one path's changes wrote: the filesystem blocks whose bytes
// the sync changed while applying it (data, extent nodes, directory
// blocks, xattr blocks and its inode's table block), ascending, and what
// each of them is (Kinds[i] for Blocks[i]; missing kinds are Entries).
type Path struct {
	Path   string
	Ino    uint32 // the inode the path's writes were charged with first; 0: none yet
	Blocks []uint64
	Kinds  []Kind
}

// Kind is what Blocks[i] is.
func (p *Path) Kind(i int) Kind {
	if i < len(p.Kinds) {
		return p.Kinds[i]
	}
	return Entries
}
