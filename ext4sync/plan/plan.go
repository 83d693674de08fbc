// Package plan computes, without any I/O, what syncing a new tree onto an
// ext4 image must do: which paths and inodes go away, which inodes are kept
// (so their blocks stay where they are) or created, what metadata changes,
// the link count of every inode, and the directory entries to edit; and
// the sync's own decisions: the image's lost+found kept when the source
// has none of its own (lostfound.go), new files that adopt the inode of a
// similar removed one (renames.go), and which freed blocks may take new
// content equal to theirs (freed.go). The engine applies the plan in the
// order its fields are listed: Remove, then Inodes, then Dirs.
package plan

import (
	"errors"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// ErrTree is wrapped by Make's errors about a new tree ext4 cannot hold
// (more hard links to one file than ext4 allows, say): bad input, not a
// failure of the engine.
var ErrTree = errors.New("the new tree cannot be stored in ext4")

// Old is the image's current state: its tree and the inode number of every
// path in it (hard links share a number).
type Old struct {
	Tree  *tree.Tree
	Inode map[string]uint32
}

// Change is a set of metadata fields of a kept inode that differ between
// the image and the new tree.
type Change uint16

const (
	ChangeMode   Change = 1 << iota // permission bits
	ChangeUID                       // owner
	ChangeGID                       // group
	ChangeMtime                     // modification time
	ChangeXattrs                    // any extended attribute
	ChangeTarget                    // symlink target
	ChangeRdev                      // device major/minor
	ChangeLinks                     // link count
)

var changeNames = []string{"mode", "uid", "gid", "mtime", "xattrs", "target", "rdev", "links"}

func (c Change) String() string {
	s := ""
	for i, name := range changeNames {
		if c&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += name
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// Content says what the engine must do with a regular file's data.
type Content uint8

const (
	// ContentNone: not a regular file; nothing to do with data.
	ContentNone Content = iota
	// ContentCheck: the inode is kept; metadata cannot tell whether its
	// data changed, so the engine compares it block by block.
	ContentCheck
	// ContentWrite: a new inode; all of its data is written.
	ContentWrite
)

func (c Content) String() string {
	switch c {
	case ContentCheck:
		return "check"
	case ContentWrite:
		return "write"
	}
	return "none"
}

// Inode is one inode of the new tree.
type Inode struct {
	Ref   Ref
	Kind  tree.Kind
	Node  *tree.Node // the new metadata: the node at Paths[0]
	Paths []string   // every new path of the inode, sorted; more than one for hard links
	// Old is the image's node for a kept inode (its first old path), nil
	// for a new one.
	Old      *tree.Node
	OldLinks uint32 // kept inodes: link count the image has now
	// Links is the link count the inode must end with: the number of paths
	// for non-directories; 2 + subdirectories for directories, or 1 when
	// that exceeds ext4's limit (dir_nlink).
	Links uint32
	// Changes lists the metadata fields of a kept inode that differ (a new
	// inode takes all of its metadata from Node).
	Changes Change
	Content Content
}

// Removal is one directory entry of the image to unlink.
type Removal struct {
	Path  string
	Kind  tree.Kind
	Inode uint32
	// Free is set on the removal of an inode's last remaining path when no
	// new path keeps the inode: after unlinking, the engine frees it and
	// its blocks.
	Free bool
}

// Entry is a directory entry: a name, the inode it points to and its type.
type Entry struct {
	Name string
	Ref  Ref
	Kind tree.Kind
}

// EntryChange is a name that stays in a directory but points to another
// inode (its type changed, or its hard-link group did).
type EntryChange struct {
	Old, New Entry
}

// DirChange lists the entry edits of one directory of the new tree. For a
// new directory every entry is Added. Removed and Changed entries were
// already unlinked by Plan.Remove; they are listed here so the engine can
// edit each directory's blocks in one pass.
type DirChange struct {
	Path    string
	Ref     Ref
	Removed []Entry       // names only in the image, sorted
	Added   []Entry       // names only in the new tree, sorted
	Changed []EntryChange // names in both with another inode or type, sorted
}

// Plan is everything a sync must do, in apply order.
type Plan struct {
	// Tree is the tree the image must hold in the end: the new tree given
	// to Make, plus the image's lost+found when it is kept.
	Tree *tree.Tree
	// FromImage lists the paths of Tree that are the image's own (the
	// kept lost+found and what it holds): their content is the image's and
	// the source gives none.
	FromImage map[string]bool
	// Remove lists every image path that is gone from the new tree, whose
	// type changed or that points to another inode now, deepest first (a
	// directory is unlinked only after everything in it).
	Remove []Removal
	// Freed is every image inode no new path keeps, sorted.
	Freed []uint32
	// NewInodes is how many inodes the engine must allocate: NewRef(0) up
	// to NewRef(NewInodes-1).
	NewInodes int
	// Inodes is every inode of the new tree in creation order: sorted by
	// first path, so a directory comes before everything in it.
	Inodes []Inode
	// Dirs lists the directories whose entries change, parents first.
	Dirs []DirChange
	// Adopt gives new regular files (by new-inode index) the image inode
	// of a removed file that looks like the same file, whose blocks the
	// new content is then laid over (see renames.go). An adopted inode is
	// not freed although its Removal says Free.
	Adopt map[int]uint32

	refs    map[string]Ref
	index   map[Ref]int
	adopted map[uint32]bool
}

// Adopted reports whether the image inode ino is adopted by a new file.
func (p *Plan) Adopted(ino uint32) bool { return p.adopted[ino] }

// FreesData reports whether applying removal rm frees a regular file's
// data blocks (freed.go): it frees the inode, which no new file adopts.
func (p *Plan) FreesData(rm Removal) bool {
	return rm.Free && rm.Kind == tree.Regular && !p.adopted[rm.Inode]
}

// Ref returns the inode a path of the new tree is assigned.
func (p *Plan) Ref(path string) (Ref, bool) {
	r, ok := p.refs[path]
	return r, ok
}

// Inode returns the plan of the inode r, or nil.
func (p *Plan) Inode(r Ref) *Inode {
	i, ok := p.index[r]
	if !ok {
		return nil
	}
	return &p.Inodes[i]
}
