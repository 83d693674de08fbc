package ext4test

import "encoding/binary"

// POSIX ACL xattr (VFS encoding, linux/posix_acl_xattr.h): a 4-byte
// version header, then 8-byte entries of tag (u16), perm (u16), id (u32).
const (
	aclAccess      = "system.posix_acl_access"
	aclDefault     = "system.posix_acl_default"
	aclVersion     = 2
	aclHeaderSize  = 4
	aclEntrySize   = 8
	aclUserObj     = 0x01
	aclUser        = 0x02
	aclGroupObj    = 0x04
	aclGroup       = 0x08
	aclMask        = 0x10
	aclOther       = 0x20
	aclUndefinedID = 0xffffffff
)

// normalizeACL rewrites the ids of USER_OBJ, GROUP_OBJ, MASK and OTHER
// entries to ACL_UNDEFINED_ID, as the kernel reports them. libext2fs
// (debugfs ea_get) converts ext4's on-disk ACLs to the VFS encoding but
// leaves 0 there; the ids carry no meaning for those tags. Values that
// are not well-formed ACLs are returned unchanged.
func normalizeACL(name string, v []byte) []byte {
	if name != aclAccess && name != aclDefault {
		return v
	}
	if len(v) < aclHeaderSize || (len(v)-aclHeaderSize)%aclEntrySize != 0 ||
		binary.LittleEndian.Uint32(v) != aclVersion {
		return v
	}
	out := append([]byte{}, v...)
	for off := aclHeaderSize; off+aclEntrySize <= len(out); off += aclEntrySize {
		switch binary.LittleEndian.Uint16(out[off:]) {
		case aclUserObj, aclGroupObj, aclMask, aclOther:
			binary.LittleEndian.PutUint32(out[off+4:], aclUndefinedID)
		}
	}
	return out
}
