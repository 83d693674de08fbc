package fs

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Features the engine reads and writes correctly.
const (
	supportedCompat = disk.CompatDirPrealloc | disk.CompatHasJournal | disk.CompatExtAttr |
		disk.CompatResizeInode | disk.CompatDirIndex | disk.CompatSparseSuper2 |
		disk.CompatFastCommit | disk.CompatStableInodes | disk.CompatOrphanFile
	supportedIncompat = disk.IncompatFiletype | disk.IncompatExtents | disk.Incompat64Bit |
		disk.IncompatFlexBG | disk.IncompatCsumSeed
	supportedRoCompat = disk.RoCompatSparseSuper | disk.RoCompatLargeFile |
		disk.RoCompatHugeFile | disk.RoCompatGdtCsum | disk.RoCompatDirNlink |
		disk.RoCompatExtraIsize | disk.RoCompatMetadataCsum
	// Compat features other implementations may ignore but an in-place
	// writer must not: they change what blocks mean.
	refusedCompat = disk.CompatLazyBG | disk.CompatExcludeInode | disk.CompatExcludeBitmap |
		disk.CompatImagicInodes
)

// checkFeatures refuses, in one error, every feature the engine does not
// support. needs_recovery and orphan_present are state, not format, and
// are reported by checkState / checkOrphans instead.
func checkFeatures(sb *disk.Superblock) error {
	var names []string
	if c := sb.FeatureCompat & refusedCompat; c != 0 {
		names = append(names, c.String())
	}
	if c := sb.FeatureIncompat &^ (supportedIncompat | disk.IncompatRecover); c != 0 {
		names = append(names, c.String())
	}
	if c := sb.FeatureRoCompat &^ (supportedRoCompat | disk.RoCompatOrphanPresent); c != 0 {
		names = append(names, c.String())
	}
	if len(names) > 0 {
		return &FeatureError{Features: splitNames(names)}
	}
	if sb.JournalDev != 0 || sb.JournalUUID != [16]byte{} && sb.JournalInum == 0 {
		return unsupportedf("superblock: external journal (device %#x)", sb.JournalDev)
	}
	if sb.FeatureCompat.Has(disk.CompatHasJournal) && sb.JournalInum == 0 {
		return corruptf("superblock: has_journal without a journal inode")
	}
	return nil
}

// splitNames turns space-separated feature lists into one list.
func splitNames(lists []string) []string {
	var out []string
	for _, l := range lists {
		start := 0
		for i := 0; i <= len(l); i++ {
			if i == len(l) || l[i] == ' ' {
				if i > start {
					out = append(out, l[start:i])
				}
				start = i + 1
			}
		}
	}
	return out
}

// checkState refuses a filesystem that must be repaired or recovered first.
func checkState(sb *disk.Superblock) error {
	switch {
	case sb.FeatureIncompat.Has(disk.IncompatRecover):
		return notCleanf("superblock: journal needs recovery (needs_recovery set); run e2fsck first")
	case sb.State&disk.StateError != 0:
		return notCleanf("superblock: error state set (s_state %#x); run e2fsck first", sb.State)
	case sb.State&disk.StateOrphan != 0:
		return notCleanf("superblock: orphan recovery in progress (s_state %#x); run e2fsck first", sb.State)
	case sb.State&disk.StateValid == 0:
		return notCleanf("superblock: not cleanly unmounted (s_state %#x); run e2fsck first", sb.State)
	case sb.ErrorCount != 0 || sb.FirstErrorTime != 0 || sb.LastErrorTime != 0:
		return notCleanf("superblock: %d errors recorded (first in inode %d, block %d); run e2fsck first",
			sb.ErrorCount, sb.FirstErrorIno, sb.FirstErrorBlock)
	case sb.LastOrphan != 0:
		return notCleanf("superblock: orphan list not empty (s_last_orphan %d); run e2fsck first", sb.LastOrphan)
	case sb.FeatureRoCompat.Has(disk.RoCompatOrphanPresent):
		return notCleanf("superblock: orphan file has entries (orphan_present set); run e2fsck first")
	}
	return nil
}
