package ext4test

import (
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Field is a set of entry fields. A judge reports which fields it can see
// (Snapshot.Known); Compare only checks fields both sides know.
type Field uint32

// The fields of an Entry that Compare can check.
const (
	FieldKind    Field = 1 << iota // file type
	FieldMode                      // permission bits incl. setuid/setgid/sticky
	FieldUID                       // owner
	FieldGID                       // group
	FieldSize                      // size of regular files and symlinks
	FieldMtime                     // modification time, seconds
	FieldMtimeNs                   // modification time, nanoseconds
	FieldAtime                     // access time (sec+nsec)
	FieldCtime                     // change time (sec+nsec)
	FieldCrtime                    // creation time (sec+nsec)
	FieldNlink                     // link count
	FieldLinks                     // hard-link groups (paths sharing an inode)
	FieldTarget                    // symlink target
	FieldDevice                    // device major/minor
	FieldXattrs                    // extended attributes, VFS names and encodings
	FieldContent                   // sha256 of regular file content
	FieldData                      // data (non-hole) ranges of regular files
)

// FieldsAll is every field.
const FieldsAll = FieldData<<1 - 1

var fieldNames = []string{"kind", "mode", "uid", "gid", "size", "mtime", "mtime-nsec",
	"atime", "ctime", "crtime", "nlink", "hardlinks", "target", "device", "xattrs",
	"content", "data-ranges"}

func (f Field) String() string {
	s := ""
	for i, n := range fieldNames {
		if f&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// Time is a timestamp: seconds since the epoch and nanoseconds.
type Time = tree.Time

// Entry is what a judge saw at one path.
type Entry struct {
	Path   string // slash-separated, no leading slash; "" is the root
	Kind   tree.Kind
	Mode   uint32 // 07777 bits
	UID    uint32
	GID    uint32
	Size   int64
	Mtime  Time
	Atime  Time
	Ctime  Time
	Crtime Time
	Nlink  uint32
	Ino    uint64 // the judge's inode number; only used to group hard links
	Target string // symlinks
	Major  uint32 // devices
	Minor  uint32
	Xattrs map[string][]byte
	SHA256 string // hex sha256 of regular file content
	// Data lists the ranges that hold data, each aligned out to the
	// judge's block size; nil when the judge does not know.
	Data []tree.Segment
	// Unknown lists fields the judge could not read for this entry
	// (beyond those missing from Snapshot.Known); Compare skips them.
	Unknown Field
}

// Snapshot is one judge's view of a whole tree.
type Snapshot struct {
	Judge string // "dir", "debugfs", "go-ext4", "kernel"
	Known Field  // the fields this judge reports
	// CleanTargets: the judge reports symlink targets path.Clean'ed.
	CleanTargets bool
	// Notes say what the judge could not do (see Entry.Unknown).
	Notes   []string
	Entries map[string]*Entry
}

func newSnapshot(judge string, known Field) *Snapshot {
	return &Snapshot{Judge: judge, Known: known, Entries: map[string]*Entry{}}
}

// Paths returns every path of the snapshot, sorted.
func (s *Snapshot) Paths() []string {
	ps := make([]string, 0, len(s.Entries))
	for p := range s.Entries {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// linkGroups maps each path whose inode has more than one name in the
// snapshot to the sorted list of all those names.
func (s *Snapshot) linkGroups() map[string][]string {
	byIno := map[uint64][]string{}
	for p, e := range s.Entries {
		if e.Kind == tree.Dir || e.Ino == 0 {
			continue
		}
		byIno[e.Ino] = append(byIno[e.Ino], p)
	}
	out := map[string][]string{}
	for _, ps := range byIno {
		if len(ps) < 2 {
			continue
		}
		sort.Strings(ps)
		for _, p := range ps {
			out[p] = ps
		}
	}
	return out
}

// kindFromMode maps the S_IFMT bits of an inode mode to a Kind.
func kindFromMode(mode uint32) tree.Kind {
	switch mode & sIFMT {
	case sIFREG:
		return tree.Regular
	case sIFDIR:
		return tree.Dir
	case sIFLNK:
		return tree.Symlink
	case sIFCHR:
		return tree.CharDev
	case sIFBLK:
		return tree.BlockDev
	case sIFIFO:
		return tree.FIFO
	case sIFSOCK:
		return tree.Socket
	}
	return 0
}

// POSIX file type bits (st_mode / i_mode).
const (
	sIFMT    = 0o170000
	sIFSOCK  = 0o140000
	sIFLNK   = 0o120000
	sIFREG   = 0o100000
	sIFBLK   = 0o060000
	sIFDIR   = 0o040000
	sIFCHR   = 0o020000
	sIFIFO   = 0o010000
	permMask = 0o7777
)
