package check

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// Error classes. Every *Error matches exactly one with errors.Is.
var (
	// ErrInconsistent: the filesystem breaks a rule e2fsck checks.
	ErrInconsistent = errors.New("ext4: inconsistent filesystem")
	// ErrUnsupported: the filesystem uses something the checker does not
	// check (a feature, a block size), so it cannot vouch for it.
	ErrUnsupported = errors.New("ext4: unsupported filesystem")
	// ErrNotClean: the filesystem must be recovered or repaired first
	// (journal to replay, errors recorded, orphans pending).
	ErrNotClean = errors.New("ext4: filesystem not clean")
)

// Error is the first problem found: the structure and where it lives, and
// what is wrong with it.
type Error struct {
	class error
	// Where names the structure and its location, such as
	// "group 3 block bitmap (block 1234)" or "inode 57 extent tree".
	Where string
	// What says what is wrong.
	What string
}

func (e *Error) Error() string {
	switch e.class {
	case ErrUnsupported:
		return "ext4: unsupported: " + e.Where + ": " + e.What
	case ErrNotClean:
		return "ext4: not clean: " + e.Where + ": " + e.What
	}
	return "ext4: inconsistent: " + e.Where + ": " + e.What
}

// Is makes an *Error match its class.
func (e *Error) Is(target error) bool { return target == e.class }

func bad(where, format string, a ...any) error {
	return &Error{class: ErrInconsistent, Where: where, What: fmt.Sprintf(format, a...)}
}

func unsupported(where, format string, a ...any) error {
	return &Error{class: ErrUnsupported, Where: where, What: fmt.Sprintf(format, a...)}
}

func notClean(where, format string, a ...any) error {
	return &Error{class: ErrNotClean, Where: where, What: fmt.Sprintf(format, a...)}
}

// File checks the ext4 image at path. See Image.
func File(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return Image(f, fi.Size())
}

// Image checks the ext4 filesystem of size bytes on r the way e2fsck -fn
// does, as far as an in-place edit depends on it, and returns nil, the
// first problem as an *Error (matching ErrInconsistent, ErrUnsupported or
// ErrNotClean), or an I/O error from r. It reads only metadata and keeps
// memory proportional to the number of inodes plus one bit per block.
func Image(r io.ReaderAt, size int64) error {
	c := &checker{r: r, size: size}
	return c.run()
}

// checker holds one run's state. Per-inode tables are indexed by inode
// number; per-block state is bitsets.
type checker struct {
	r    io.ReaderAt
	size int64

	sb   disk.Superblock
	lay  disk.Geometry
	gds  []disk.GroupDesc
	seed uint32 // metadata_csum seed

	found     bitset // blocks pass 1 found in use
	inodeUsed bitset // inodes pass 1 found in use
	inodeDir  bitset // in-use directories
	ftype     []uint8
	links     []uint16 // i_links_count of in-use inodes
	counted   []uint32 // directory entries naming each inode (pass 2)
	parent    []uint32 // the directory whose entry names a directory (pass 2)
	dotdot    []uint32 // a directory's ".." (pass 2)
	dirs      []dirInfo
	xattrs    map[uint64]*xattrBlock
	lowDtime  bool // e2fsck's low_dtime_check
	owner     *hunt
	names     map[string]struct{} // one directory block's names (pass 2)
	cur       disk.Inode          // the inode pass 1 is at
	dirBuf    []byte              // directory blocks being read (pass 2)

	journalMaps  []extent.Mapping // the journal inode's blocks
	journalSize  uint64
	journalLinks uint16
	orphanMaps   []extent.Mapping // the orphan file's blocks
	orphanSize   uint64
	orphanGen    uint32
	orphanSeen   bool
}

// run is e2fsck's order: the superblock and descriptors (pass 0), inodes
// and the blocks they claim (pass 1), directory contents (pass 2),
// connectivity (pass 3), link counts (pass 4), bitmaps and counts
// (pass 5), then the journal and orphan file contents.
func (c *checker) run() error {
	steps := []func() error{
		c.readSuperblock,
		c.readDescriptors,
		c.checkResizeInode,
		c.markTables,
		c.scanInodes,
		c.checkJournal,
		c.checkDirectories,
		c.checkConnectivity,
		c.checkLinks,
		c.checkBlockBitmaps,
		c.checkInodeBitmaps,
		c.checkOrphanFile,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// readAt fills b from byte off; a device that ends early is inconsistent
// with the superblock (e2fsck: the filesystem is larger than the device).
func (c *checker) readAt(b []byte, off int64, what string) error {
	n, err := c.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return bad(what, "image ends at byte %d, inside it (read %d of %d bytes at byte %d)", c.size, n, len(b), off)
	}
	return &ioError{fmt.Errorf("ext4 check: read %s at byte %d: %w", what, off, err)}
}

// ioError is a failure to read the image, as opposed to what was read.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// readBlocks reads n blocks from blk; what names them in errors.
func (c *checker) readBlocks(blk, n uint64, what string) ([]byte, error) {
	return c.readBlocksInto(nil, blk, n, what)
}

// readBlocksInto is readBlocks into buf when it is large enough.
func (c *checker) readBlocksInto(buf []byte, blk, n uint64, what string) ([]byte, error) {
	bs := uint64(c.lay.BlockSize)
	if blk >= c.lay.BlocksCount || n > c.lay.BlocksCount-blk {
		return nil, bad(what, "blocks %d+%d outside the filesystem's %d blocks", blk, n, c.lay.BlocksCount)
	}
	if uint64(cap(buf)) < n*bs {
		buf = make([]byte, n*bs)
	}
	b := buf[:n*bs]
	if err := c.readAt(b, int64(blk*bs), what); err != nil {
		return nil, err
	}
	return b, nil
}

// blockReader reads single blocks for package extent.
type blockReader struct{ c *checker }

func (r blockReader) BlockSize() int { return int(r.c.lay.BlockSize) }

func (r blockReader) ReadBlock(blk uint64) ([]byte, error) {
	return r.c.readBlocks(blk, 1, "extent tree block")
}
