package e2e

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// cpioArchive is an in-memory tree written out as a "newc" cpio archive, the
// format the kernel unpacks as an initramfs (Documentation/
// driver-api/early-userspace/buffer-format.rst). Entries are written in path
// order, parents first, so the same tree gives the same bytes.
type cpioArchive struct {
	entries map[string]cpioEntry
}

type cpioEntry struct {
	mode  uint32 // file type and permission bits, as in stat(2)
	data  []byte // file content or symlink target
	major uint32 // device numbers of a character or block device
	minor uint32
}

const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

func newCpioArchive() *cpioArchive {
	return &cpioArchive{entries: map[string]cpioEntry{}}
}

// clean turns a path into the archive's form: relative, no leading slash.
func cpioClean(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// mkdirAll adds p and its parents as directories (0755) if missing.
func (a *cpioArchive) mkdirAll(p string) {
	p = cpioClean(p)
	for p != "" && p != "." {
		if _, ok := a.entries[p]; ok {
			return
		}
		a.entries[p] = cpioEntry{mode: cpioDir | 0o755}
		p = path.Dir(p)
		if p == "." {
			return
		}
	}
}

func (a *cpioArchive) addFile(p string, perm uint32, data []byte) {
	p = cpioClean(p)
	a.mkdirAll(path.Dir(p))
	a.entries[p] = cpioEntry{mode: cpioFile | perm, data: data}
}

func (a *cpioArchive) addSymlink(p, target string) {
	p = cpioClean(p)
	a.mkdirAll(path.Dir(p))
	a.entries[p] = cpioEntry{mode: cpioSymlink | 0o777, data: []byte(target)}
}

func (a *cpioArchive) addCharDev(p string, perm, major, minor uint32) {
	p = cpioClean(p)
	a.mkdirAll(path.Dir(p))
	a.entries[p] = cpioEntry{mode: cpioCharDev | perm, major: major, minor: minor}
}

func (a *cpioArchive) has(p string) bool {
	_, ok := a.entries[cpioClean(p)]
	return ok
}

// writeTo writes the archive, ending with the TRAILER!!! entry.
func (a *cpioArchive) writeTo(w io.Writer) error {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names) // a parent sorts before its children
	ino := uint32(1)
	for _, n := range names {
		if err := writeCpioEntry(w, n, ino, a.entries[n]); err != nil {
			return err
		}
		ino++
	}
	return writeCpioEntry(w, "TRAILER!!!", 0, cpioEntry{})
}

func writeCpioEntry(w io.Writer, name string, ino uint32, e cpioEntry) error {
	nlink := uint32(1)
	if e.mode&0o170000 == cpioDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+8+len(e.data)+4)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	buf = append(buf, e.data...)
	buf = pad4(buf)
	_, err := w.Write(buf)
	return err
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
