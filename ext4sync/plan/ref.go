package plan

import "fmt"

// Ref names an inode of the synced image. A positive Ref is an inode the
// image already has (its number); a negative Ref is the i-th new inode of
// the plan, for the engine's allocator to resolve (-1 is new inode 0).
// The zero Ref names nothing.
type Ref int64

// OldRef refers to the existing inode ino.
func OldRef(ino uint32) Ref { return Ref(ino) }

// NewRef refers to the plan's new inode number index (0-based).
func NewRef(index int) Ref { return Ref(-int64(index) - 1) }

// IsNew reports whether r is a new inode still to be allocated.
func (r Ref) IsNew() bool { return r < 0 }

// Ino returns the existing inode number r names, if it names one.
func (r Ref) Ino() (uint32, bool) {
	if r <= 0 {
		return 0, false
	}
	return uint32(r), true
}

// NewIndex returns the index of the new inode r names, if it names one.
func (r Ref) NewIndex() (int, bool) {
	if r >= 0 {
		return 0, false
	}
	return int(-r - 1), true
}

func (r Ref) String() string {
	switch {
	case r > 0:
		return fmt.Sprintf("inode %d", int64(r))
	case r < 0:
		return fmt.Sprintf("new inode #%d", int64(-r-1))
	}
	return "no inode"
}
