package fs

// FileChange describes a regular file that stays in the image but whose
// content changes, as the sync sees it before writing anything.
type FileChange struct {
	Ino uint32
	// Differs lists the physical blocks of the current content whose new
	// bytes differ (what an in-place overwrite would write).
	Differs []uint64
	// Grow is the number of blocks the new content needs beyond those it
	// can overwrite in place (0 when it shrinks or keeps its size).
	Grow uint64
	// Blocks is the number of blocks the whole new content needs when
	// written afresh.
	Blocks uint64
}

// Rewrite says how to write a FileChange.
type Rewrite int

const (
	// InPlace overwrites the differing blocks where they lie.
	InPlace Rewrite = iota
	// Relocate writes the whole content afresh where the Placement puts it
	// and frees the old blocks (which costs only bitmap writes).
	Relocate
)

func (r Rewrite) String() string {
	if r == Relocate {
		return "relocate"
	}
	return "in place"
}

// Rewriter is what a Placement implements to choose, per changed file,
// between overwriting in place and relocating. It changes nothing; the
// writes that follow go through the FS and its Placement as usual.
type Rewriter interface {
	Rewrite(v SpaceView, c FileChange) (Rewrite, error)
}

// WriteExpecter is what a Placement implements to hear of blocks the
// caller will overwrite in place later (so it can count them as changed
// before their bytes reach the device).
type WriteExpecter interface {
	ExpectWrites(v SpaceView, blocks []uint64)
}

// AdviseRewrite asks the Placement how to write c: InPlace when it has no
// opinion (it does not implement Rewriter).
func (f *FS) AdviseRewrite(c FileChange) (Rewrite, error) {
	if r, ok := f.placement.(Rewriter); ok {
		return r.Rewrite(view{f}, c)
	}
	return InPlace, nil
}

// ExpectWrites tells the Placement, if it listens (WriteExpecter), that
// blocks will be overwritten in place.
func (f *FS) ExpectWrites(blocks []uint64) {
	if e, ok := f.placement.(WriteExpecter); ok && len(blocks) > 0 {
		e.ExpectWrites(view{f}, blocks)
	}
}

// Rewrites reports whether the Placement chooses how changed files are
// rewritten (it implements Rewriter), so callers describe changes only
// when someone will read them.
func (f *FS) Rewrites() bool {
	_, ok := f.placement.(Rewriter)
	return ok
}
