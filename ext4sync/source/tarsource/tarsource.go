// Package tarsource reads a tar archive (plain, gzip, bzip2, xz or zstd,
// told apart by content) as a tree.Tree without extracting it: Open reads
// the archive once for its headers and every file's content digests
// (tree.Digester), and Contents.Each re-reads it to stream file content in
// archive order.
//
// The tree is what extracting the archive as root with GNU tar
// (--xattrs --acls --numeric-owner -p) would give: numeric owners, mode
// bits including setuid/setgid/sticky, mtimes with PAX nanoseconds, hard
// links, symlinks, devices, FIFOs, PAX xattrs (SCHILY.xattr.*,
// LIBARCHIVE.xattr.*, GNU tar's text ACLs) and sparse files (holes read as
// zeros). Entries may come in any order; a later entry for the same path
// replaces the earlier one, as tar does. A hard-link entry takes the
// metadata of its target and its own header's fields are ignored. Global
// PAX headers are ignored.
//
// The root is a directory 0755 root:root with mtime 0 unless the archive
// has a "." (or "./") entry, which sets its metadata.
//
// Anything hostile is an error wrapping ErrInvalid and one of its causes
// (ErrAbsolute, ErrDotDot, ...), naming the archive and the entry.
package tarsource

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Default bounds on what Open keeps in memory.
const (
	DefaultMaxEntries   = 1 << 20
	DefaultMaxMetaBytes = 512 << 20
)

// rootMode is the permission of a root the archive does not describe.
const rootMode = 0o755

// trailerLimit is how much of the stream after the tar end marker is read
// to check the compressed stream's own end (its CRC); more is ignored.
const trailerLimit = 1 << 20

// Options bound what an archive may make Open and Each do. The zero value
// applies the defaults and no content limit.
type Options struct {
	// MaxBytes, if > 0, is the most content (the sum of regular file
	// sizes, holes of sparse files included) the archive may hold; the
	// caller passes the image's capacity. Reading stops with ErrTooLarge
	// as soon as the sum exceeds it.
	MaxBytes int64
	// MaxEntries bounds the number of tar headers; 0 means
	// DefaultMaxEntries.
	MaxEntries int
	// MaxMetaBytes bounds the bytes of names, link targets and PAX
	// records kept or parsed; 0 means DefaultMaxMetaBytes.
	MaxMetaBytes int64
	// NoXattrs drops every extended attribute.
	NoXattrs bool
	// Progress, when set, is called as Open reads the archive with the
	// bytes of the file read so far and its size, every progressEvery
	// entries and at the end.
	Progress func(read, size int64)
}

// progressEvery is how many entries Open reads between Progress calls.
const progressEvery = 64

// inode is one file of the extracted archive; hard links share one.
type inode struct {
	node  tree.Node // metadata; Path is set per path when the tree is built
	entry int       // index of the header holding the content, -1 for none
	name  string    // that header's raw name, to check on re-read
}

// reader is the state of one Open.
type reader struct {
	archive string
	opts    Options
	paths   map[string]*inode
	digests map[int]tree.Digests // by the index of the entry holding the content
	size    int64                // of the archive file, for Progress
	entries int
	meta    int64
	content int64
}

// Open reads the archive's headers and returns its tree. The archive must
// stay unchanged while the tree's Contents are used.
func Open(path string, opts Options) (*tree.Tree, error) {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxMetaBytes <= 0 {
		opts.MaxMetaBytes = DefaultMaxMetaBytes
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tarsource: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("tarsource: %s: %w: not a regular file", path, ErrNotTar)
	}
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r := &reader{archive: path, opts: opts, paths: make(map[string]*inode), digests: make(map[int]tree.Digests), size: st.Size()}
	r.paths[""] = &inode{node: tree.Node{Kind: tree.Dir, Mode: rootMode}, entry: -1}
	if err := r.scan(s); err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(st.Size(), st.Size())
	}
	return r.build(st)
}

// scan reads every header, and digests the content of regular files.
func (r *reader) scan(s *stream) error {
	tr := tar.NewReader(s.r)
	for index := 0; ; index++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if !s.tail.sawEndMarker() {
				return fmt.Errorf("tarsource: %s: after %d entries: %w: no end-of-archive marker", r.archive, index, ErrCorrupt)
			}
			break
		}
		if err != nil {
			if index == 0 && s.comp == None && errors.Is(err, tar.ErrHeader) {
				return fmt.Errorf("tarsource: %s: %w", r.archive, ErrNotTar)
			}
			return fmt.Errorf("tarsource: %s: after %d entries: %w", r.archive, index, readError(err))
		}
		if index >= r.opts.MaxEntries {
			return fmt.Errorf("tarsource: %s: %w: over %d entries", r.archive, ErrTooMany, r.opts.MaxEntries)
		}
		if err := r.account(hdr); err != nil {
			return fmt.Errorf("tarsource: %s: entry %d %q: %w", r.archive, index, hdr.Name, err)
		}
		if err := r.entry(index, hdr); err != nil {
			return fmt.Errorf("tarsource: %s: entry %d %q: %w", r.archive, index, hdr.Name, err)
		}
		if err := r.digest(index, hdr, tr); err != nil {
			return fmt.Errorf("tarsource: %s: entry %d %q: %w", r.archive, index, hdr.Name, err)
		}
		r.entries++
		if r.opts.Progress != nil && index%progressEvery == 0 {
			if pos, err := s.file.Seek(0, io.SeekCurrent); err == nil {
				r.opts.Progress(min(pos, r.size), r.size)
			}
		}
	}
	// Read a little past the end marker so a compressed stream's own
	// trailer (length, CRC) is checked; a truncated one is corrupt.
	if s.comp != None {
		if _, err := io.Copy(io.Discard, io.LimitReader(s.r, trailerLimit)); err != nil {
			return fmt.Errorf("tarsource: %s: %s stream after the tar end: %w", r.archive, s.comp, readError(err))
		}
	}
	return nil
}

// digest takes the content digests of the entry just read, if it holds a
// regular file's content (a later entry for the same path drops them).
func (r *reader) digest(index int, hdr *tar.Header, tr *tar.Reader) error {
	path, err := cleanPath(hdr.Name)
	if err != nil {
		return nil // not an entry that holds content
	}
	in, ok := r.paths[path]
	if !ok || in.entry != index {
		return nil
	}
	d, err := tree.DigestReader(tr, hdr.Size)
	if err != nil {
		return readError(err)
	}
	r.digests[index] = d
	return nil
}

// account charges a header's metadata and content against the limits.
func (r *reader) account(hdr *tar.Header) error {
	r.meta += int64(len(hdr.Name) + len(hdr.Linkname))
	for k, v := range hdr.PAXRecords {
		r.meta += int64(len(k) + len(v))
	}
	if r.meta > r.opts.MaxMetaBytes {
		return fmt.Errorf("%w: over %d bytes of metadata", ErrTooMany, r.opts.MaxMetaBytes)
	}
	if isRegular(hdr.Typeflag) {
		r.content += hdr.Size
		if r.opts.MaxBytes > 0 && (r.content > r.opts.MaxBytes || r.content < 0) {
			return fmt.Errorf("%w: content passes %d bytes", ErrTooLarge, r.opts.MaxBytes)
		}
	}
	return nil
}

func isRegular(flag byte) bool {
	return flag == tar.TypeReg || flag == tar.TypeCont || flag == tar.TypeGNUSparse
}
