package check

import (
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Features whose on-disk structures the checker knows. Anything else is
// reported as unsupported rather than passed unchecked.
const (
	knownCompat = disk.CompatDirPrealloc | disk.CompatHasJournal | disk.CompatExtAttr |
		disk.CompatResizeInode | disk.CompatDirIndex | disk.CompatSparseSuper2 |
		disk.CompatFastCommit | disk.CompatStableInodes | disk.CompatOrphanFile
	knownIncompat = disk.IncompatFiletype | disk.IncompatExtents | disk.Incompat64Bit |
		disk.IncompatFlexBG | disk.IncompatCsumSeed | disk.IncompatRecover
	knownRoCompat = disk.RoCompatSparseSuper | disk.RoCompatLargeFile |
		disk.RoCompatHugeFile | disk.RoCompatGdtCsum | disk.RoCompatDirNlink |
		disk.RoCompatExtraIsize | disk.RoCompatMetadataCsum | disk.RoCompatOrphanPresent
)

// Limits of check_super_block and ext2fs_open.
const (
	maxLogBlock     = 2    // 4 KiB: the engine's largest block
	maxDescSize     = 1024 // EXT2_MAX_DESC_SIZE
	minExtraIsize   = 4    // i_extra_isize + i_checksum_hi
	maxInodesPerGrp = 1 << 16
	dynamicRev      = 1  // EXT2_DYNAMIC_REV, the newest
	maxLogFlex      = 31 // s_log_groups_per_flex
)

const sbWhere = "superblock"

// readSuperblock reads and validates the primary superblock (e2fsck's
// ext2fs_open and check_super_block) and derives the layout.
func (c *checker) readSuperblock() error {
	raw := make([]byte, disk.SuperblockSize)
	if err := c.readAt(raw, disk.SuperblockOffset, sbWhere); err != nil {
		return err
	}
	sb := &c.sb
	if err := sb.Unmarshal(raw); err != nil {
		return bad(sbWhere, "%v", err)
	}
	if sb.Magic != disk.SuperMagic {
		return bad(sbWhere, "bad magic %#04x (not ext2/3/4)", sb.Magic)
	}
	if sb.RevLevel > dynamicRev {
		return bad(sbWhere, "revision %d is newer than any ext4 (1)", sb.RevLevel)
	}
	if err := c.checkFeatures(); err != nil {
		return err
	}
	if sb.HasMetadataCsum() {
		if sb.ChecksumType != disk.ChecksumTypeCrc32c {
			return bad(sbWhere, "checksum type %d, want crc32c", sb.ChecksumType)
		}
		if want := sb.ComputeChecksum(); want != sb.Checksum {
			return bad(sbWhere, "checksum %#08x, computed %#08x", sb.Checksum, want)
		}
	}
	if err := c.checkState(); err != nil {
		return err
	}
	if err := c.deriveLayout(); err != nil {
		return err
	}
	c.seed = sb.CsumSeed()
	// e2fsck skips the low-dtime test when the clock was clearly not set.
	n := sb.InodesCount
	c.lowDtime = !(sb.Wtime != 0 && sb.Wtime < n || sb.Mtime != 0 && sb.Mtime < n || sb.MkfsTime != 0 && sb.MkfsTime < n)
	return nil
}

func (c *checker) checkFeatures() error {
	sb := &c.sb
	var names []string
	if f := sb.FeatureCompat &^ knownCompat; f != 0 {
		names = append(names, f.String())
	}
	if f := sb.FeatureIncompat &^ knownIncompat; f != 0 {
		names = append(names, f.String())
	}
	if f := sb.FeatureRoCompat &^ knownRoCompat; f != 0 {
		names = append(names, f.String())
	}
	if len(names) > 0 {
		return unsupported(sbWhere, "feature(s) %s", strings.Join(names, " "))
	}
	if sb.JournalDev != 0 || sb.JournalUUID != [16]byte{} {
		return unsupported(sbWhere, "external journal (device %#x)", sb.JournalDev)
	}
	return nil
}

// checkState refuses a filesystem that needs recovery or repair first.
func (c *checker) checkState() error {
	sb := &c.sb
	switch {
	case sb.FeatureIncompat.Has(disk.IncompatRecover):
		return notClean(sbWhere, "the journal needs recovery (needs_recovery); run e2fsck first")
	case sb.State&disk.StateError != 0:
		return notClean(sbWhere, "error state set (s_state %#x); run e2fsck first", sb.State)
	case sb.State&disk.StateOrphan != 0:
		return notClean(sbWhere, "orphan recovery in progress (s_state %#x); run e2fsck first", sb.State)
	case sb.State&disk.StateValid == 0:
		return notClean(sbWhere, "not cleanly unmounted (s_state %#x); run e2fsck first", sb.State)
	case sb.ErrorCount != 0 || sb.FirstErrorTime != 0 || sb.LastErrorTime != 0:
		return notClean(sbWhere, "%d errors recorded (first in inode %d, block %d); run e2fsck first", sb.ErrorCount, sb.FirstErrorIno, sb.FirstErrorBlock)
	case sb.LastOrphan != 0:
		return notClean(sbWhere, "orphan list not empty (s_last_orphan %d); run e2fsck first", sb.LastOrphan)
	case sb.FeatureRoCompat.Has(disk.RoCompatOrphanPresent):
		return notClean(sbWhere, "orphan file has entries (orphan_present); run e2fsck first")
	}
	return nil
}

// deriveLayout applies check_super_block's value checks to the
// superblock's own fields, then takes the geometry from disk.GeometryOf,
// the layout every part of the engine reads.
func (c *checker) deriveLayout() error {
	sb := &c.sb
	if sb.LogBlockSize > maxLogBlock {
		if sb.LogBlockSize <= 6 {
			return unsupported(sbWhere, "block size %d (only 1, 2 and 4 KiB)", sb.BlockSize())
		}
		return bad(sbWhere, "s_log_block_size %d out of range", sb.LogBlockSize)
	}
	bs := sb.BlockSize()
	isz, firstIno := uint32(disk.GoodOldInodeSize), uint32(disk.GoodOldFirstIno)
	if sb.RevLevel > disk.GoodOldRev {
		isz, firstIno = uint32(sb.InodeSize), sb.FirstIno
	}
	blksMax := uint64(1)<<32 - 1
	if sb.Is64Bit() {
		blksMax = 1<<48 - 1
	}
	perBlock := uint32(0)
	if isz >= disk.GoodOldInodeSize && isz <= bs {
		perBlock = bs / isz
	}
	bpg, ipg, blocks, first := sb.BlocksPerGroup, sb.InodesPerGroup, sb.BlocksCount(), uint64(sb.FirstDataBlock)
	switch {
	case sb.LogGroupsPerFlex > maxLogFlex:
		return bad(sbWhere, "s_log_groups_per_flex %d out of range", sb.LogGroupsPerFlex)
	case sb.InodesCount < 1:
		return bad(sbWhere, "s_inodes_count 0")
	case blocks < 1 || blocks > blksMax:
		return bad(sbWhere, "s_blocks_count %d out of range", blocks)
	case sb.LogClusterSize != sb.LogBlockSize:
		return bad(sbWhere, "cluster size log %d differs from block size log %d without bigalloc", sb.LogClusterSize, sb.LogBlockSize)
	case sb.ClustersPerGroup < 8 || sb.ClustersPerGroup > 8*bs:
		return bad(sbWhere, "s_clusters_per_group %d out of range 8..%d", sb.ClustersPerGroup, 8*bs)
	case bpg < 8 || bpg > 8*bs || bpg%8 != 0:
		return bad(sbWhere, "s_blocks_per_group %d out of range 8..%d", bpg, 8*bs)
	case bpg != sb.ClustersPerGroup:
		return bad(sbWhere, "%d blocks per group differs from %d clusters per group", bpg, sb.ClustersPerGroup)
	case isz < disk.GoodOldInodeSize || isz > bs || isz&(isz-1) != 0:
		return bad(sbWhere, "inode size %d", isz)
	case ipg < perBlock || ipg > min(perBlock*(bpg-4), maxInodesPerGrp-perBlock, 8*bs) || ipg%8 != 0:
		return bad(sbWhere, "s_inodes_per_group %d out of range", ipg)
	case sb.RBlocksCount() > blocks/2:
		return bad(sbWhere, "s_r_blocks_count %d exceeds half of %d blocks", sb.RBlocksCount(), blocks)
	case uint32(sb.ReservedGdtBlocks) > bs/4:
		return bad(sbWhere, "s_reserved_gdt_blocks %d exceeds %d", sb.ReservedGdtBlocks, bs/4)
	case sb.ReservedGdtBlocks != 0 && !sb.FeatureCompat.Has(disk.CompatResizeInode):
		return bad(sbWhere, "s_reserved_gdt_blocks %d without resize_inode", sb.ReservedGdtBlocks)
	case sb.DescSize > maxDescSize || sb.DescSize&(sb.DescSize-1) != 0 || sb.Is64Bit() && sb.DescSize < disk.GroupDescSize64:
		return bad(sbWhere, "s_desc_size %d", sb.DescSize)
	case sb.DescriptorSize() != disk.GroupDescSize32 && sb.DescriptorSize() != disk.GroupDescSize64:
		return unsupported(sbWhere, "group descriptor size %d (only 32 and 64)", sb.DescriptorSize())
	}
	wantFirst := uint64(0)
	if bs == disk.MinBlockSize {
		wantFirst = 1
	}
	if first != wantFirst {
		return bad(sbWhere, "s_first_data_block %d, want %d for %d-byte blocks", first, wantFirst, bs)
	}
	if blocks <= first {
		return bad(sbWhere, "%d blocks", blocks)
	}
	groups := (blocks - first + uint64(bpg) - 1) / uint64(bpg)
	if groups*uint64(ipg) != uint64(sb.InodesCount) {
		return bad(sbWhere, "s_inodes_count %d, want %d (%d groups of %d)", sb.InodesCount, groups*uint64(ipg), groups, ipg)
	}
	if sb.RevLevel > disk.GoodOldRev && (firstIno < disk.GoodOldFirstIno || firstIno > sb.InodesCount) {
		return bad(sbWhere, "s_first_ino %d out of range %d..%d", firstIno, disk.GoodOldFirstIno, sb.InodesCount)
	}
	if isz > disk.GoodOldInodeSize {
		hi := uint16(isz - disk.GoodOldInodeSize)
		for _, v := range []struct {
			name string
			val  uint16
		}{{"s_min_extra_isize", sb.MinExtraIsize}, {"s_want_extra_isize", sb.WantExtraIsize}} {
			if v.val != 0 && (v.val < minExtraIsize || v.val > hi || v.val%4 != 0) {
				return bad(sbWhere, "%s %d out of range %d..%d", v.name, v.val, minExtraIsize, hi)
			}
		}
	}
	if sb.FreeBlocksCount() > blocks {
		return bad(sbWhere, "%d free blocks of %d", sb.FreeBlocksCount(), blocks)
	}
	if sb.FreeInodesCount > sb.InodesCount {
		return bad(sbWhere, "%d free inodes of %d", sb.FreeInodesCount, sb.InodesCount)
	}
	geo, err := disk.GeometryOf(sb)
	if err != nil {
		return bad(sbWhere, "%v", err)
	}
	c.lay = geo
	if 1+geo.GdtBlocks+geo.ReservedGdt >= uint64(bpg) {
		return bad(sbWhere, "%d descriptor and %d reserved blocks do not fit a group of %d", geo.GdtBlocks, geo.ReservedGdt, bpg)
	}
	if end := int64(blocks) * int64(bs); c.size < end {
		return bad(sbWhere, "%d blocks of %d bytes, but the image has only %d bytes", blocks, bs, c.size)
	}
	return nil
}
