package ext4test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

const (
	rootIno = 2
	// maxEntries bounds a walk of a damaged image.
	maxEntries = 1 << 22
	// fastSymlinkMax is the longest target stored in the inode itself.
	fastSymlinkMax = 59
)

// debugfsKnown is what the debugfs judge reports: everything.
const debugfsKnown = FieldsAll

// SnapshotImage reads every path of img with debugfs: a handful of
// debugfs processes (one per directory depth, then one for all inodes,
// one for all xattr values), never one per file.
func SnapshotImage(t testing.TB, img string) *Snapshot {
	t.Helper()
	RequireTools(t, "debugfs")
	s, err := SnapshotImageErr(img)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// walked is one path found by the directory walk.
type walked struct {
	path string
	ino  uint64
	mode uint32
}

// SnapshotImageErr is SnapshotImage returning errors.
func SnapshotImageErr(img string) (*Snapshot, error) {
	scratch, err := debugfsScratch()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	paths, bs, err := debugfsWalk(img, scratch)
	if err != nil {
		return nil, err
	}
	// All inodes at once: stat, and dump the content of files and symlinks.
	inodes := map[uint64]walked{}
	var cmds []string
	for _, w := range paths {
		if _, seen := inodes[w.ino]; seen {
			continue
		}
		inodes[w.ino] = w
		cmds = append(cmds, statCmd(w.ino))
		if k := kindFromMode(w.mode); k == tree.Regular || k == tree.Symlink {
			cmds = append(cmds, dumpCmd(w.ino, scratch))
		}
	}
	res, err := debugfsBatch(img, cmds, false, scratch)
	if err != nil {
		return nil, err
	}
	stats := map[uint64]*inodeStat{}
	var eaCmds []string
	eaFile := map[string]string{} // command -> file
	for ino := range inodes {
		st, err := parseStat(ino, res[statCmd(ino)])
		if err != nil {
			return nil, fmt.Errorf("%w (image %s)", err, img)
		}
		stats[ino] = st
		for i, n := range st.xattrNames {
			f := filepath.Join(scratch, fmt.Sprintf("ea-%d-%d", ino, i))
			c := fmt.Sprintf("ea_get -f %s <%d> %s", f, ino, quoteArg(n))
			eaCmds = append(eaCmds, c)
			eaFile[c] = f
		}
	}
	if _, err := debugfsBatch(img, eaCmds, false, scratch); err != nil {
		return nil, err
	}
	snap := newSnapshot("debugfs", debugfsKnown)
	for _, w := range paths {
		st := stats[w.ino]
		e := &Entry{
			Path: w.path, Kind: kindFromMode(w.mode), Mode: w.mode & permMask,
			UID: st.uid, GID: st.gid, Nlink: st.links, Ino: w.ino,
			Mtime: st.times["mtime"], Atime: st.times["atime"], Ctime: st.times["ctime"], Crtime: st.times["crtime"],
		}
		switch e.Kind {
		case tree.Regular:
			e.Size = st.size
			e.Data = dataRanges(st.extents, bs, st.size)
			sum, n, err := hashFile(filepath.Join(scratch, strconv.FormatUint(w.ino, 10)), st.size)
			if err != nil {
				return nil, fmt.Errorf("ext4test: debugfs dump of inode %d (%s): %w", w.ino, w.path, err)
			}
			if n != st.size {
				return nil, fmt.Errorf("ext4test: debugfs dump of inode %d (%s): %d bytes, size %d", w.ino, w.path, n, st.size)
			}
			e.SHA256 = sum
		case tree.Symlink:
			e.Size = st.size
			if st.fastLink != nil {
				e.Target = *st.fastLink
			} else {
				b, err := os.ReadFile(filepath.Join(scratch, strconv.FormatUint(w.ino, 10)))
				if err != nil {
					return nil, fmt.Errorf("ext4test: debugfs symlink inode %d (%s): %w", w.ino, w.path, err)
				}
				e.Target = string(b)
			}
		case tree.CharDev, tree.BlockDev:
			e.Major, e.Minor = st.major, st.minor
		}
		if len(st.xattrNames) > 0 {
			e.Xattrs = map[string][]byte{}
		}
		for i, n := range st.xattrNames {
			b, err := os.ReadFile(filepath.Join(scratch, fmt.Sprintf("ea-%d-%d", w.ino, i)))
			if err != nil {
				return nil, fmt.Errorf("ext4test: debugfs xattr %s of inode %d (%s): %w", n, w.ino, w.path, err)
			}
			e.Xattrs[n] = normalizeACL(n, b)
		}
		snap.Entries[w.path] = e
	}
	return snap, nil
}

// debugfsWalk lists the tree level by level (one debugfs per depth) and
// returns every path with its inode and mode, and the block size.
func debugfsWalk(img, scratch string) ([]walked, int64, error) {
	res, err := debugfsBatch(img, []string{"stats -h", lsCmd(rootIno)}, false, scratch)
	if err != nil {
		return nil, 0, err
	}
	bs, err := parseBlockSize(res["stats -h"])
	if err != nil {
		return nil, 0, fmt.Errorf("%w (image %s)", err, img)
	}
	rootMode := uint32(sIFDIR)
	// The root's own mode comes from its "." entry.
	for _, l := range res[lsCmd(rootIno)] {
		if strings.HasPrefix(l, fmt.Sprintf("/%d/", rootIno)) && strings.Contains(l, "/./") {
			f := strings.Split(l, "/")
			if len(f) == 8 {
				if m, err := strconv.ParseUint(f[2], 8, 32); err == nil {
					rootMode = uint32(m)
				}
			}
		}
	}
	all := []walked{{path: "", ino: rootIno, mode: rootMode}}
	level := []walked{all[0]}
	visited := map[uint64]bool{rootIno: true}
	// The first batch already listed the root; each later level costs
	// one debugfs process.
	for first := true; len(level) > 0; first = false {
		if !first {
			var cmds []string
			for _, d := range level {
				cmds = append(cmds, lsCmd(d.ino))
			}
			if res, err = debugfsBatch(img, cmds, false, scratch); err != nil {
				return nil, 0, err
			}
		}
		var next []walked
		for _, d := range level {
			ents, err := parseLsP(res[lsCmd(d.ino)])
			if err != nil {
				return nil, 0, fmt.Errorf("%w (directory inode %d, %q)", err, d.ino, d.path)
			}
			for _, e := range ents {
				p := e.name
				if d.path != "" {
					p = d.path + "/" + e.name
				}
				w := walked{path: p, ino: e.ino, mode: e.mode}
				all = append(all, w)
				if len(all) > maxEntries {
					return nil, 0, fmt.Errorf("ext4test: %s: more than %d entries", img, maxEntries)
				}
				if kindFromMode(e.mode) == tree.Dir {
					if visited[e.ino] {
						return nil, 0, fmt.Errorf("ext4test: %s: directory inode %d (%s) reached twice", img, e.ino, p)
					}
					visited[e.ino] = true
					next = append(next, w)
				}
			}
		}
		level = next
	}
	sort.Slice(all, func(i, j int) bool { return all[i].path < all[j].path })
	return all, bs, nil
}

func lsCmd(ino uint64) string   { return fmt.Sprintf("ls -p <%d>", ino) }
func statCmd(ino uint64) string { return fmt.Sprintf("stat <%d>", ino) }
func dumpCmd(ino uint64, dir string) string {
	return fmt.Sprintf("dump <%d> %s", ino, filepath.Join(dir, strconv.FormatUint(ino, 10)))
}

// quoteArg quotes a debugfs argument that holds spaces.
func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// hashFile returns the hex sha256 of a file and its length. A missing
// file counts as empty when size is 0 (debugfs dumps nothing then).
func hashFile(path string, size int64) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) && size == 0 {
			return emptySHA256, 0, nil
		}
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()
