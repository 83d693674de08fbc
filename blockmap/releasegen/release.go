package releasegen

import (
	"fmt"
	"sort"
)

// Kind is the type of a generated path.
type Kind uint8

const (
	Regular Kind = iota + 1
	Dir
	Symlink
)

// File is one path of a generated release. Content is produced on demand
// from the file's recipe, so a 10k-file tree never sits in memory.
type File struct {
	Path   string // slash-separated, relative to the root
	Kind   Kind
	Mode   uint32 // permission bits
	Target string // symlinks
	Mtime  int64  // seconds; nanoseconds are always 0 (like SOURCE_DATE_EPOCH builds)
	recipe recipe
}

// recipe makes a regular file's content.
type recipe interface {
	content() []byte
}

// Content returns a regular file's bytes.
func (f *File) Content() []byte {
	if f.recipe == nil {
		return nil
	}
	return f.recipe.content()
}

// Release is a whole rootfs tree, sorted by path.
type Release struct {
	Name  string
	Files []*File
	index map[string]*File
}

func newRelease(name string, files []*File) *Release {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	r := &Release{Name: name, Files: files, index: make(map[string]*File, len(files))}
	for _, f := range files {
		r.index[f.Path] = f
	}
	return r
}

// Lookup returns the file at path, or nil.
func (r *Release) Lookup(path string) *File { return r.index[path] }

// Size is the total content size of the release's regular files.
func (r *Release) Size() int64 {
	var n int64
	for _, f := range r.Files {
		if f.Kind == Regular {
			n += int64(len(f.Content()))
		}
	}
	return n
}

// Config scales and seeds a generated release pair.
type Config struct {
	Seed uint64
	// Scale multiplies every file count and keeps sizes: 1.0 is the
	// benchmark's ~10k-file, ~200 MiB tree; the demo uses a few percent.
	Scale float64
}

func (c Config) count(n int) int {
	s := c.Scale
	if s <= 0 {
		s = 1
	}
	k := int(float64(n)*s + 0.5)
	if k < 1 {
		k = 1
	}
	return k
}

// Pair returns the base release and the next one derived from it by kind:
// "patch" (a security update, see the package doc) or "noop" (identical).
func Pair(cfg Config, kind string) (base, next *Release, err error) {
	base = Base(cfg)
	switch kind {
	case "patch":
		next = Patch(base, cfg)
	case "noop":
		next = newRelease(base.Name, append([]*File(nil), base.Files...))
	default:
		return nil, nil, fmt.Errorf("releasegen: unknown release kind %q (want patch or noop)", kind)
	}
	return base, next, nil
}
