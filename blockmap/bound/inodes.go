package bound

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// identity is what of an inode no placement chooses: the type and
// permissions, owner, group, link count, mtime and, except for
// directories (whose size depends on how entries are packed), size.
type identity struct {
	mode         uint16
	uid, gid     uint32
	links        uint16
	mtime, extra uint32
	size         uint64
}

// inodeState reads one inode slot: whether it is in use and its identity.
// Bytes that do not decode are a free slot.
func inodeState(raw []byte) (inUse bool, id identity) {
	var in disk.Inode
	if in.Unmarshal(raw) != nil || in.Mode == 0 || in.LinksCount == 0 {
		return false, identity{}
	}
	id = identity{mode: in.Mode, uid: in.UID(), gid: in.GID(), links: in.LinksCount, mtime: in.Mtime, extra: in.MtimeExtra}
	if !in.IsDir() {
		id.size = in.Size()
	}
	return true, id
}

// compareTable compares one inode-table block of the base with the same
// block of the new image, slots inodes of inodeSize bytes each. forced
// says whether some inode in use in the base is free or has another
// identity in the new image; delta is the change in inodes in use.
func compareTable(old, new []byte, inodeSize, slots int) (forced bool, delta int64) {
	for i := 0; i < slots && (i+1)*inodeSize <= min(len(old), len(new)); i++ {
		o, n := old[i*inodeSize:(i+1)*inodeSize], new[i*inodeSize:(i+1)*inodeSize]
		oldUse, oldID := inodeState(o)
		newUse, newID := inodeState(n)
		if oldUse && (!newUse || oldID != newID) {
			forced = true
		}
		switch {
		case oldUse && !newUse:
			delta--
		case newUse && !oldUse:
			delta++
		}
	}
	return forced, delta
}
