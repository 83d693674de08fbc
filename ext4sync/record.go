package ext4sync

import (
	"bytes"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// recorder is the device the FS writes through during SyncImage: it passes
// every write on and charges the blocks whose bytes it changes to the path
// being applied, so reports can rank what a release costs by path.
type recorder struct {
	dev       fs.Device
	blockSize int64 // set once the FS is open; 0 records nothing

	path    string
	ino     uint32
	active  bool
	byPath  map[string]map[uint64]bool
	inoOf   map[string]uint32
	scratch []byte
}

func newRecorder(dev fs.Device) *recorder {
	return &recorder{dev: dev, byPath: make(map[string]map[uint64]bool), inoOf: make(map[string]uint32)}
}

// charge makes path (inode ino) the owner of the writes that follow.
func (r *recorder) charge(path string, ino uint32) {
	if r == nil {
		return
	}
	r.path, r.ino, r.active = path, ino, true
}

// idle charges the writes that follow to no path (filesystem metadata).
func (r *recorder) idle() {
	if r != nil {
		r.active = false
	}
}

func (r *recorder) ReadAt(p []byte, off int64) (int, error) { return r.dev.ReadAt(p, off) }

// WriteAt writes p and records which blocks it changed. Comparing first
// costs a read, which is cheap next to charging a path for equal bytes.
func (r *recorder) WriteAt(p []byte, off int64) (int, error) {
	if r.active && r.blockSize > 0 && off >= 0 {
		if cap(r.scratch) < len(p) {
			r.scratch = make([]byte, len(p))
		}
		cur := r.scratch[:len(p)]
		n, _ := r.dev.ReadAt(cur, off)
		r.note(p, cur[:n], off)
	}
	return r.dev.WriteAt(p, off)
}

// note records the blocks where p differs from cur (what the device held).
func (r *recorder) note(p, cur []byte, off int64) {
	set := r.byPath[r.path]
	if set == nil {
		set = make(map[uint64]bool)
		r.byPath[r.path] = set
		r.inoOf[r.path] = r.ino
	}
	for start := int64(0); start < int64(len(p)); {
		blk := (off + start) / r.blockSize
		end := min((blk+1)*r.blockSize-off, int64(len(p)))
		if end > int64(len(cur)) || !bytes.Equal(p[start:end], cur[start:end]) {
			set[uint64(blk)] = true
		}
		start = end
	}
}

// touched returns what was recorded, sorted by path, blocks ascending
// (their Kinds are setKinds's to fill).
func (r *recorder) touched() []written.Path {
	if r == nil {
		return nil
	}
	out := make([]written.Path, 0, len(r.byPath))
	for path, set := range r.byPath {
		if len(set) == 0 {
			continue
		}
		pb := written.Path{Path: path, Ino: r.inoOf[path], Blocks: make([]uint64, 0, len(set))}
		for b := range set {
			pb.Blocks = append(pb.Blocks, b)
		}
		sort.Slice(pb.Blocks, func(i, j int) bool { return pb.Blocks[i] < pb.Blocks[j] })
		out = append(out, pb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// displayPath shows a tree path as an absolute one.
func displayPath(path string) string {
	return "/" + path
}
