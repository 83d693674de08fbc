package tarsource

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// GNU tar's --acls text records, and the xattrs they stand for.
var aclRecords = []struct{ record, xattr string }{
	{"SCHILY.acl.access", "system.posix_acl_access"},
	{"SCHILY.acl.default", "system.posix_acl_default"},
}

// POSIX ACL xattr encoding (VFS, as getxattr returns it): a 4-byte
// version, then 8-byte entries {tag u16, perm u16, id u32}, little endian,
// sorted by tag then id.
const (
	aclVersion   = 2
	aclHeaderLen = 4
	aclEntryLen  = 8
	aclUndefID   = 0xffffffff

	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20

	aclRead  = 4
	aclWrite = 2
	aclExec  = 1

	// maxACLEntries bounds a text ACL (the VFS value limit / entry size).
	maxACLEntries = maxXattrValue / aclEntryLen
)

type aclEntry struct {
	tag  uint16
	perm uint16
	id   uint32
}

// aclsFromText adds the VFS form of text ACLs that have no xattr record
// of their own (GNU tar writes both when it can; older writers only the
// text). Named users and groups must carry numeric ids: the archive's
// names mean nothing without the target's passwd database.
func aclsFromText(records map[string]string, got map[string][]byte) error {
	for _, a := range aclRecords {
		text, ok := records[a.record]
		if !ok {
			continue
		}
		if _, have := got[a.xattr]; have {
			continue
		}
		value, err := parseACLText(text)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadEntry, a.record, err)
		}
		if value != nil {
			got[a.xattr] = value
		}
	}
	return nil
}

// parseACLText parses "tag:qualifier:perms[:id]" entries separated by
// commas or newlines ("u", "g", "m", "o" abbreviations allowed) into the
// VFS encoding. An empty text means no ACL (nil).
func parseACLText(text string) ([]byte, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' })
	if len(fields) > maxACLEntries {
		return nil, fmt.Errorf("%d entries", len(fields))
	}
	var entries []aclEntry
	for _, f := range fields {
		if i := strings.IndexByte(f, '#'); i >= 0 {
			f = f[:i]
		}
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		e, err := parseACLEntry(f)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", f, err)
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].tag != entries[j].tag {
			return entries[i].tag < entries[j].tag
		}
		return entries[i].id < entries[j].id
	})
	out := make([]byte, aclHeaderLen+aclEntryLen*len(entries))
	binary.LittleEndian.PutUint32(out, aclVersion)
	for i, e := range entries {
		b := out[aclHeaderLen+aclEntryLen*i:]
		binary.LittleEndian.PutUint16(b[0:], e.tag)
		binary.LittleEndian.PutUint16(b[2:], e.perm)
		binary.LittleEndian.PutUint32(b[4:], e.id)
	}
	return out, nil
}

func parseACLEntry(f string) (aclEntry, error) {
	parts := strings.Split(f, ":")
	if len(parts) < 3 || len(parts) > 4 {
		return aclEntry{}, fmt.Errorf("want tag:qualifier:perms")
	}
	var e aclEntry
	qual := parts[1]
	if len(parts) == 4 {
		qual = parts[3] // star's trailing numeric id
	}
	named := parts[1] != ""
	switch parts[0] {
	case "user", "u":
		e.tag = aclUserObj
		if named {
			e.tag = aclUser
		}
	case "group", "g":
		e.tag = aclGroupObj
		if named {
			e.tag = aclGroup
		}
	case "mask", "m":
		e.tag = aclMask
	case "other", "o":
		e.tag = aclOther
	default:
		return e, fmt.Errorf("unknown tag %q", parts[0])
	}
	e.id = aclUndefID
	if e.tag == aclUser || e.tag == aclGroup {
		id, err := strconv.ParseUint(qual, 10, 32)
		if err != nil {
			return e, fmt.Errorf("qualifier %q is not a numeric id", qual)
		}
		e.id = uint32(id)
	} else if named {
		return e, fmt.Errorf("qualifier on a %s entry", parts[0])
	}
	for _, c := range parts[2] {
		switch c {
		case 'r':
			e.perm |= aclRead
		case 'w':
			e.perm |= aclWrite
		case 'x':
			e.perm |= aclExec
		case '-':
		default:
			return e, fmt.Errorf("bad permission %q", parts[2])
		}
	}
	return e, nil
}
