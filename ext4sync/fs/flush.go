package fs

import (
	"bytes"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Flush writes back what changed since Open or the last Flush: dirty
// bitmaps (with their checksums), the descriptor-table blocks whose bytes
// changed, and the primary superblock's free counts and checksum. Nothing
// else of the superblock changes; with no changes nothing is written.
func (f *FS) Flush() error {
	if err := f.writeBitmaps(); err != nil {
		return err
	}
	if err := f.writeDescriptors(); err != nil {
		return err
	}
	if !f.countsChg {
		return nil
	}
	f.sb.SetFreeBlocksCount(f.FreeBlocksCount())
	f.sb.FreeInodesCount = uint32(f.FreeInodesCount())
	if f.sb.HasMetadataCsum() {
		f.sb.SetChecksum()
	}
	raw := make([]byte, len(f.sbRaw))
	f.sb.Marshal(raw)
	if !bytes.Equal(raw, f.sbRaw) {
		defer f.dropInodeBlocks()
		if _, err := f.dev.WriteAt(raw, disk.SuperblockOffset); err != nil {
			return err
		}
		f.sbRaw = raw
	}
	f.countsChg = false
	return nil
}
