package xattr

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// POSIX ACL encodings. The VFS (getxattr) form is posix_acl_xattr: a le32
// version 2 header and 8-byte entries {le16 tag, le16 perm, le32 id}. The
// ext4 form is a le32 version 1 header and entries of 4 bytes {tag, perm}
// for the owner, owning group, mask and other, 8 bytes {tag, perm, id} for
// named users and groups.
const (
	aclVFSVersion  = 2
	aclDiskVersion = 1
	aclHeaderSize  = 4
	aclVFSEntry    = 8
	aclDiskShort   = 4
	aclDiskFull    = 8
	// ACLUndefinedID is the id the VFS reports for entries that carry none.
	ACLUndefinedID = 0xFFFFFFFF
)

// ACL entry tags.
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
)

// Byte offsets inside an ACL entry (both encodings).
const (
	aclEntTag  = 0x00 // le16
	aclEntPerm = 0x02 // le16
	aclEntID   = 0x04 // le32, VFS entries and named disk entries
)

// maxACLEntries bounds an ACL to what fits an xattr value of 64 KiB.
const maxACLEntries = 1 << 13

// ErrACL is wrapped by every ACL encoding error; ACLToDisk and ACLFromDisk
// return it with the "xattr:" prefix of their callers left out.
var ErrACL = errors.New("bad POSIX ACL")

// isACLName reports whether name is one of the POSIX ACL attributes.
func isACLName(name string) bool {
	return name == NameACLAccess || name == NameACLDefault
}

// hasID reports whether an entry with tag carries an id, and whether the tag
// is known at all.
func hasID(tag uint16) (withID, known bool) {
	switch tag {
	case aclUserObj, aclGroupObj, aclMask, aclOther:
		return false, true
	case aclUser, aclGroup:
		return true, true
	}
	return false, false
}

// ACLToDisk converts a POSIX ACL from the VFS encoding to ext4's.
func ACLToDisk(vfs []byte) ([]byte, error) {
	if len(vfs) < aclHeaderSize {
		return nil, fmt.Errorf("%w: VFS value of %d bytes is shorter than its header", ErrACL, len(vfs))
	}
	if v := binary.LittleEndian.Uint32(vfs); v != aclVFSVersion {
		return nil, fmt.Errorf("%w: VFS version %d, want %d", ErrACL, v, aclVFSVersion)
	}
	body := vfs[aclHeaderSize:]
	if len(body)%aclVFSEntry != 0 || len(body) == 0 {
		return nil, fmt.Errorf("%w: VFS value of %d bytes is not a header and whole entries", ErrACL, len(vfs))
	}
	n := len(body) / aclVFSEntry
	if n > maxACLEntries {
		return nil, fmt.Errorf("%w: %d entries", ErrACL, n)
	}
	out := make([]byte, aclHeaderSize, aclHeaderSize+len(body))
	binary.LittleEndian.PutUint32(out, aclDiskVersion)
	for i := 0; i < n; i++ {
		e := body[i*aclVFSEntry:]
		tag := binary.LittleEndian.Uint16(e[aclEntTag:])
		withID, known := hasID(tag)
		if !known {
			return nil, fmt.Errorf("%w: entry %d has unknown tag %#x", ErrACL, i, tag)
		}
		if withID {
			out = append(out, e[:aclDiskFull]...)
		} else {
			out = append(out, e[:aclDiskShort]...)
		}
	}
	return out, nil
}

// ACLFromDisk converts a POSIX ACL from ext4's encoding to the VFS one.
// Entries without an id get ACLUndefinedID, as the kernel reports them.
func ACLFromDisk(disk []byte) ([]byte, error) {
	if len(disk) < aclHeaderSize {
		return nil, fmt.Errorf("%w: disk value of %d bytes is shorter than its header", ErrACL, len(disk))
	}
	if v := binary.LittleEndian.Uint32(disk); v != aclDiskVersion {
		return nil, fmt.Errorf("%w: disk version %d, want %d", ErrACL, v, aclDiskVersion)
	}
	out := make([]byte, aclHeaderSize, aclHeaderSize+2*len(disk))
	binary.LittleEndian.PutUint32(out, aclVFSVersion)
	var ent [aclVFSEntry]byte
	for off, i := aclHeaderSize, 0; off < len(disk); i++ {
		if len(disk)-off < aclDiskShort {
			return nil, fmt.Errorf("%w: entry %d at byte %d is cut short", ErrACL, i, off)
		}
		tag := binary.LittleEndian.Uint16(disk[off+aclEntTag:])
		withID, known := hasID(tag)
		if !known {
			return nil, fmt.Errorf("%w: entry %d at byte %d has unknown tag %#x", ErrACL, i, off, tag)
		}
		copy(ent[:aclEntID], disk[off:off+aclDiskShort])
		size := aclDiskShort
		if withID {
			if len(disk)-off < aclDiskFull {
				return nil, fmt.Errorf("%w: entry %d at byte %d is cut short", ErrACL, i, off)
			}
			copy(ent[aclEntID:], disk[off+aclEntID:off+aclDiskFull])
			size = aclDiskFull
		} else {
			binary.LittleEndian.PutUint32(ent[aclEntID:], ACLUndefinedID)
		}
		out = append(out, ent[:]...)
		off += size
	}
	if len(out) == aclHeaderSize {
		return nil, fmt.Errorf("%w: no entries", ErrACL)
	}
	return out, nil
}
