package fs

import (
	"encoding/binary"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// The journal superblock (big-endian, struct journal_superblock_s) as far
// as Open reads it: enough to see whether the log holds transactions.
const (
	jbdMagic          = 0xC03B3998
	jbdSuperblockV1   = 3
	jbdSuperblockV2   = 4
	jbdSuperblockSize = 1024
	jbdBlocktypeOff   = 0x04
	jbdStartOff       = 0x1C // s_start: first log block, 0 when empty
	jbdIncompatOff    = 0x28
	jbdChecksumOff    = 0xFC
	jbdCsumV2         = 0x8
	jbdCsumV3         = 0x10
)

// checkJournal refuses a filesystem whose internal journal still holds
// transactions (s_start != 0) even though needs_recovery is clear, after
// verifying the journal superblock's checksum. It adds the journal's
// blocks, which must not overlap other metadata, to the metadata no
// allocation may touch.
func (f *FS) checkJournal() error {
	ino := f.sb.JournalInum
	if !f.sb.FeatureCompat.Has(disk.CompatHasJournal) || ino == 0 {
		return nil
	}
	in, err := f.ReadInode(ino)
	if err != nil {
		return err
	}
	if !in.Flags.Has(disk.FlagExtents) {
		return nil // block-mapped journal: rely on needs_recovery alone
	}
	runs, err := f.extentRuns(ino, in)
	if err != nil {
		return err
	}
	var first uint64
	journal := append([]span(nil), f.meta...)
	for _, r := range runs {
		if what := f.MetadataIn(r.Physical, uint64(r.Len)); what != "" {
			return corruptf("journal inode %d extent at logical %d: blocks %d+%d overlap %s", ino, r.Logical, r.Physical, r.Len, what)
		}
		if r.Logical == 0 && r.Len > 0 {
			first = r.Physical
		}
		journal = append(journal, span{r.Physical, r.Physical + uint64(r.Len)})
	}
	// The journal's blocks are metadata too: never allocated or freed.
	f.meta = mergeSpans(journal)
	if first == 0 {
		return corruptf("journal inode %d: no block 0", ino)
	}
	b, err := f.ReadBlock(first)
	if err != nil {
		return err
	}
	jsb := b[:jbdSuperblockSize]
	be := binary.BigEndian
	if be.Uint32(jsb) != jbdMagic {
		return corruptf("journal superblock at block %d: bad magic %#08x", first, be.Uint32(jsb))
	}
	bt := be.Uint32(jsb[jbdBlocktypeOff:])
	if bt != jbdSuperblockV1 && bt != jbdSuperblockV2 {
		return corruptf("journal superblock at block %d: block type %d", first, bt)
	}
	if bt == jbdSuperblockV2 && be.Uint32(jsb[jbdIncompatOff:])&(jbdCsumV2|jbdCsumV3) != 0 {
		var c [jbdSuperblockSize]byte
		copy(c[:], jsb)
		clear(c[jbdChecksumOff : jbdChecksumOff+4])
		if want, got := disk.Crc32c(^uint32(0), c[:]), be.Uint32(jsb[jbdChecksumOff:]); want != got {
			return corruptf("journal superblock at block %d: checksum %#08x, computed %#08x", first, got, want)
		}
	}
	if s := be.Uint32(jsb[jbdStartOff:]); s != 0 {
		return notCleanf("journal superblock at block %d: log not empty (s_start %d); needs recovery, run e2fsck first", first, s)
	}
	return nil
}
