package fs

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

// Extent is a run of Len blocks starting at block Start.
type Extent struct {
	Start, Len uint64
}

// BlockRequest asks for N new blocks.
type BlockRequest struct {
	N    uint64 // blocks wanted
	Goal uint64 // preferred first block (e.g. after the file's last block); 0: none
	Ino  uint32 // inode the blocks are for; 0 if none (its group is the fallback goal)
	// Metadata is true for extent-tree, directory-index and xattr blocks,
	// which a policy may want to keep apart from file data.
	Metadata bool
}

// InodeRequest asks for a new inode.
type InodeRequest struct {
	Parent uint32 // inode of the directory the new inode goes in; 0 if unknown
	Dir    bool   // the new inode is a directory
}

// SpaceView is what a Placement sees of free blocks. It never changes the
// filesystem.
type SpaceView interface {
	// Layout is the filesystem's geometry and metadata locations. A view
	// that knows only the geometry leaves Group empty.
	Layout() *disk.Layout
	// BlockFree reports whether blk may be allocated: in the filesystem,
	// not metadata, and free in its bitmap.
	BlockFree(blk uint64) (bool, error)
	// NextFreeRun returns the first run of free blocks at or after from:
	// its start and length (0 if there is none up to the end).
	NextFreeRun(from uint64) (start, n uint64, err error)
	// FreeBlocks is the number of free blocks in the filesystem.
	FreeBlocks() uint64
	// GroupFreeBlocks is the number of free blocks in group g.
	GroupFreeBlocks(g uint32) uint32
}

// InodeView is what a Placement sees of free inodes.
type InodeView interface {
	Layout() *disk.Layout // as SpaceView's
	// InodeFree reports whether ino may be allocated (not reserved, free).
	InodeFree(ino uint32) (bool, error)
	// NextFreeInode returns the first allocatable inode at or after from,
	// or 0 if there is none up to the last inode.
	NextFreeInode(from uint32) (uint32, error)
	// Freed lists inodes freed since Open, ascending, still free.
	Freed() []uint32
	// FreeInodes is the number of free inodes in the filesystem.
	FreeInodes() uint64
	// GroupFreeInodes is the number of free inodes in group g.
	GroupFreeInodes(g uint32) uint32
}

// ChangedRanges is what the device a filesystem is written through can
// tell of the writes made so far: the byte ranges that differ from what it held
// before, ascending. The copy-on-write overlay over the base image reports
// whole changed blocks. A Placement that prices writes by what is already
// dirty watches it (ext4sync.DeviceAttacher).
type ChangedRanges interface {
	Changed(fn func(off, n int64))
}

// Placement decides where new blocks and inodes go. The FS validates its
// answer (right count, every block or inode free) before using it.
type Placement interface {
	// Blocks chooses where req.N new blocks go: extents summing to req.N.
	Blocks(v SpaceView, req BlockRequest) ([]Extent, error)
	// Inode chooses the inode for req.
	Inode(v InodeView, req InodeRequest) (uint32, error)
}

// DefaultPlacement puts new data near a goal (the request's goal block,
// else the first block of its inode's group), taking the first free run
// from there that holds everything, else filling runs in order from the
// goal (wrapping around). Inodes: the lowest inode freed this session,
// else the first free one from the parent's group on.
type DefaultPlacement struct{}

// Blocks implements Placement.
func (DefaultPlacement) Blocks(v SpaceView, req BlockRequest) ([]Extent, error) {
	geo := v.Layout().Geometry
	goal := req.Goal
	if goal == 0 && req.Ino != 0 && req.Ino <= geo.InodesCount {
		g, _ := geo.GroupOfInode(req.Ino)
		goal = geo.GroupFirstBlock(g)
	}
	if goal < geo.FirstDataBlock || goal >= geo.BlocksCount {
		goal = geo.FirstDataBlock
	}
	// First pass: one run that holds all N.
	if start, ok, err := firstRunOf(v, goal, req.N); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return []Extent{{Start: start, Len: req.N}}, nil
	}
	// Second pass: fill runs in order from the goal, wrapping once.
	var out []Extent
	need := req.N
	for _, r := range [][2]uint64{{goal, geo.BlocksCount}, {geo.FirstDataBlock, goal}} {
		for from := r[0]; need > 0 && from < r[1]; {
			s, n, err := v.NextFreeRun(from)
			if err != nil {
				return nil, err
			}
			if n == 0 || s >= r[1] {
				break
			}
			n = min(n, r[1]-s, need)
			out = append(out, Extent{Start: s, Len: n})
			need -= n
			from = s + n
		}
	}
	if need > 0 {
		return nil, &SpaceError{Need: req.N, Free: req.N - need}
	}
	return out, nil
}

// firstRunOf finds the first free run of at least n blocks at or after
// goal, then from the start up to goal.
func firstRunOf(v SpaceView, goal, n uint64) (uint64, bool, error) {
	geo := v.Layout().Geometry
	for _, r := range [][2]uint64{{goal, geo.BlocksCount}, {geo.FirstDataBlock, goal}} {
		for from := r[0]; from < r[1]; {
			s, l, err := v.NextFreeRun(from)
			if err != nil || l == 0 || s >= r[1] {
				if err != nil {
					return 0, false, err
				}
				break
			}
			if l >= n {
				return s, true, nil
			}
			from = s + l
		}
	}
	return 0, false, nil
}

// Inode implements Placement.
func (DefaultPlacement) Inode(v InodeView, req InodeRequest) (uint32, error) {
	if f := v.Freed(); len(f) > 0 {
		return f[0], nil
	}
	geo := v.Layout().Geometry
	from := geo.FirstIno
	if req.Parent != 0 && req.Parent <= geo.InodesCount {
		g, _ := geo.GroupOfInode(req.Parent)
		from = max(from, g*geo.InodesPerGroup+1)
	}
	ino, err := v.NextFreeInode(from)
	if err != nil || ino != 0 {
		return ino, err
	}
	ino, err = v.NextFreeInode(geo.FirstIno)
	if err != nil {
		return 0, err
	}
	if ino == 0 {
		return 0, &SpaceError{Inodes: true, Need: 1}
	}
	return ino, nil
}
