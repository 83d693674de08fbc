package fs

import (
	"encoding/binary"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Orphan file block layout: inode numbers, then a tail of magic and
// checksum (struct ext4_orphan_block_tail).
const (
	orphanBlockMagic   = 0x0B10CA04
	orphanTailSize     = 8
	orphanEntrySize    = 4
	orphanMaxFileBlock = 1 << 20 // far beyond what mke2fs creates
)

// checkOrphans refuses a filesystem whose orphan file holds any entry (an
// inode still to be cleaned up). The orphan list and orphan_present are
// checked with the superblock state.
func (f *FS) checkOrphans() error {
	ino := f.sb.OrphanFileInum
	if !f.sb.FeatureCompat.Has(disk.CompatOrphanFile) || ino == 0 {
		return nil
	}
	in, err := f.ReadInode(ino)
	if err != nil {
		return err
	}
	if !in.Flags.Has(disk.FlagExtents) {
		return unsupportedf("orphan file inode %d: not extent-mapped", ino)
	}
	runs, err := f.extentRuns(ino, in)
	if err != nil {
		return err
	}
	bs := int(f.geo.BlockSize)
	perBlock := (bs - orphanTailSize) / orphanEntrySize
	seed := f.InodeSeed(ino, in.Generation)
	var seen uint64
	for _, r := range runs {
		for k := uint32(0); k < r.Len; k++ {
			if seen++; seen > orphanMaxFileBlock {
				return corruptf("orphan file inode %d: more than %d blocks", ino, orphanMaxFileBlock)
			}
			pblk := r.Physical + uint64(k)
			b, err := f.ReadBlock(pblk)
			if err != nil {
				return err
			}
			if m := binary.LittleEndian.Uint32(b[bs-orphanTailSize:]); m != orphanBlockMagic {
				return corruptf("orphan file inode %d block %d: bad magic %#08x", ino, pblk, m)
			}
			if f.sb.HasMetadataCsum() {
				var nr [8]byte
				binary.LittleEndian.PutUint64(nr[:], pblk)
				want := disk.Crc32c(disk.Crc32c(seed, nr[:]), b[:perBlock*orphanEntrySize])
				if got := binary.LittleEndian.Uint32(b[bs-orphanEntrySize:]); got != want {
					return corruptf("orphan file inode %d block %d: checksum %#08x, computed %#08x", ino, pblk, got, want)
				}
			}
			for e := 0; e < perBlock; e++ {
				if o := binary.LittleEndian.Uint32(b[e*orphanEntrySize:]); o != 0 {
					return notCleanf("orphan file inode %d block %d: orphan inode %d pending; run e2fsck first", ino, pblk, o)
				}
			}
		}
	}
	return nil
}
