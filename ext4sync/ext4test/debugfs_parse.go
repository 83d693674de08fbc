package ext4test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// lsEntry is one line of `ls -p`: /ino/mode/uid/gid/name/size/.
type lsEntry struct {
	ino  uint64
	mode uint32
	name string
}

// parseLsP parses `ls -p` output. Names cannot hold '/', so the fields
// split cleanly; "." and ".." are dropped.
func parseLsP(lines []string) ([]lsEntry, error) {
	var out []lsEntry
	for _, l := range lines {
		if l == "" {
			continue
		}
		f := strings.Split(l, "/")
		// "", ino, mode, uid, gid, name, size, ""
		if len(f) != 8 || f[0] != "" {
			return nil, fmt.Errorf("ext4test: debugfs ls -p: bad line %q", l)
		}
		// Unused slots (lost+found's preallocated blocks) show inode 0.
		if f[5] == "." || f[5] == ".." || f[1] == "0" {
			continue
		}
		ino, err1 := strconv.ParseUint(f[1], 10, 32)
		mode, err2 := strconv.ParseUint(f[2], 8, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("ext4test: debugfs ls -p: bad line %q", l)
		}
		out = append(out, lsEntry{ino: ino, mode: uint32(mode), name: f[5]})
	}
	return out, nil
}

// inodeStat is what `stat <ino>` says about one inode.
type inodeStat struct {
	uid, gid     uint32
	size         int64
	links        uint32
	times        map[string]Time // "atime", "ctime", "mtime", "crtime"
	rawTimes     map[string][2]uint64
	major, minor uint32
	fastLink     *string
	xattrNames   []string
	extents      []extentRange // leaf extents, logical blocks
}

type extentRange struct {
	lblk, n uint64
	uninit  bool // unwritten (fallocated); still counted as allocated
}

var (
	reUser   = regexp.MustCompile(`User:\s+(-?\d+)\s+Group:\s+(-?\d+)(?:\s+Project:\s+-?\d+)?\s+Size:\s+(\d+)`)
	reLinks  = regexp.MustCompile(`^Links:\s+(\d+)`)
	reTime   = regexp.MustCompile(`^\s*(a|c|m|cr)time: 0x([0-9a-f]{1,8})(?::([0-9a-f]{1,8}))?`)
	reDev    = regexp.MustCompile(`^(?:\(New-style\) )?Device major/minor number:\s+(\d+):(\d+)`)
	reXattr  = regexp.MustCompile(`^  (\S.*?) \((\d+)\)(?: = |$)`)
	reExtent = regexp.MustCompile(`^\((\d+)(?:-(\d+))?([^)]*)\):`)
)

const (
	xattrsHeader  = "Extended attributes:"
	extentsHeader = "EXTENTS:"
	blocksHeader  = "BLOCKS:" // block-mapped (non-extent) files
	blocksTotal   = "TOTAL:"
	fastLinkLead  = "Fast link dest: \""
	// ext4 extra timestamp: low 2 bits extend the seconds, the rest are ns.
	extraEpochBits = 2
	extraEpochMask = 1<<extraEpochBits - 1
)

// parseStat parses the output of `stat <ino>`.
func parseStat(ino uint64, lines []string) (*inodeStat, error) {
	st := &inodeStat{times: map[string]Time{}, rawTimes: map[string][2]uint64{}}
	sawUser, sawLinks := false, false
	section := ""
	for _, l := range lines {
		switch {
		case l == xattrsHeader:
			section = "xattr"
			continue
		case l == extentsHeader || l == blocksHeader:
			section = "extents"
			continue
		}
		if section == "xattr" {
			if m := reXattr.FindStringSubmatch(l); m != nil {
				st.xattrNames = append(st.xattrNames, m[1])
				continue
			}
			section = ""
		}
		if section == "extents" && l != "" && !strings.HasPrefix(l, blocksTotal) {
			if err := parseExtentLine(l, &st.extents); err != nil {
				return nil, fmt.Errorf("ext4test: debugfs stat inode %d: %w", ino, err)
			}
			continue
		}
		if m := reUser.FindStringSubmatch(l); m != nil {
			u, _ := strconv.ParseInt(m[1], 10, 64)
			g, _ := strconv.ParseInt(m[2], 10, 64)
			sz, err := strconv.ParseInt(m[3], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("ext4test: debugfs stat inode %d: size %q: %w", ino, m[3], err)
			}
			st.uid, st.gid, st.size, sawUser = uint32(u), uint32(g), sz, true
		} else if m := reLinks.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 32)
			st.links, sawLinks = uint32(n), true
		} else if m := reTime.FindStringSubmatch(l); m != nil {
			lo, _ := strconv.ParseUint(m[2], 16, 32)
			var extra uint64
			if m[3] != "" {
				extra, _ = strconv.ParseUint(m[3], 16, 32)
			}
			sec := int64(int32(uint32(lo))) + int64(extra&extraEpochMask)<<32
			st.times[m[1]+"time"] = Time{Sec: sec, Nsec: uint32(extra >> extraEpochBits)}
			st.rawTimes[m[1]+"time"] = [2]uint64{lo, extra}
		} else if m := reDev.FindStringSubmatch(l); m != nil {
			ma, _ := strconv.ParseUint(m[1], 10, 32)
			mi, _ := strconv.ParseUint(m[2], 10, 32)
			st.major, st.minor = uint32(ma), uint32(mi)
		} else if rest, ok := strings.CutPrefix(l, fastLinkLead); ok {
			if !strings.HasSuffix(rest, "\"") {
				return nil, fmt.Errorf("ext4test: debugfs stat inode %d: bad fast link line %q", ino, l)
			}
			s := rest[:len(rest)-1]
			st.fastLink = &s
		}
	}
	if !sawUser || !sawLinks || len(st.times) < 3 {
		return nil, fmt.Errorf("ext4test: debugfs stat inode %d: incomplete output %q", ino, lines)
	}
	return st, nil
}

// parseExtentLine parses one line of leaf extents such as
// "(0-2):100-102, (ETB0):99, (7[u]):300", or of a block map such as
// "(0-11):200-211, (IND):212"; index and indirect blocks are skipped.
func parseExtentLine(l string, out *[]extentRange) error {
	for _, item := range strings.Split(l, ", ") {
		item = strings.TrimSpace(item)
		if item == "" || (len(item) > 1 && item[0] == '(' && item[1] >= 'A' && item[1] <= 'Z') {
			continue
		}
		m := reExtent.FindStringSubmatch(item)
		if m == nil {
			return fmt.Errorf("bad extent %q", item)
		}
		a, _ := strconv.ParseUint(m[1], 10, 64)
		b := a
		if m[2] != "" {
			b, _ = strconv.ParseUint(m[2], 10, 64)
		}
		if b < a {
			return fmt.Errorf("bad extent %q", item)
		}
		*out = append(*out, extentRange{lblk: a, n: b - a + 1, uninit: strings.Contains(m[3], "u")})
	}
	return nil
}

// dataRanges turns leaf extents into byte ranges of allocated blocks,
// merged and clipped to size. Unwritten (fallocated) extents count as
// allocated, as the kernel's SEEK_DATA reports them (they read as zeros;
// content hashes cover that).
func dataRanges(ext []extentRange, blockSize, size int64) []tree.Segment {
	out := []tree.Segment{}
	for _, e := range ext {
		off := int64(e.lblk) * blockSize
		end := off + int64(e.n)*blockSize
		if end > size {
			end = size
		}
		if off >= end {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Off+out[n-1].Len == off {
			out[n-1].Len += end - off
			continue
		}
		out = append(out, tree.Segment{Off: off, Len: end - off})
	}
	return out
}

var reBlockSize = regexp.MustCompile(`^Block size:\s+(\d+)`)

// parseBlockSize finds the block size in `stats -h` output.
func parseBlockSize(lines []string) (int64, error) {
	for _, l := range lines {
		if m := reBlockSize.FindStringSubmatch(l); m != nil {
			return strconv.ParseInt(m[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("ext4test: debugfs stats -h: no block size")
}
