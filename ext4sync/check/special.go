package check

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// Orphan file block tail (struct ext4_orphan_block_tail).
const (
	orphanMagic    = 0x0B10CA04
	orphanTailSize = 8
)

// checkReserved handles the inodes pass 1 treats by number: the bad
// blocks inode, the root, the journal, the quota inodes, the orphan file
// and the other reserved inodes. special is false when the inode goes on
// to the rules for ordinary inodes in use (the root).
func (c *checker) checkReserved(ino uint32, in *disk.Inode, raw []byte) (special bool, err error) {
	sb := &c.sb
	clear := func(what string) error {
		if in.LinksCount != 0 || in.RawBlocks() != 0 || le32(in.Block[:], 0) != 0 {
			return bad(c.inodeWhere(ino), "%s, but the inode is not clear", what)
		}
		return nil
	}
	switch {
	case ino == disk.BadBlocksIno:
		c.inodeUsed.set(uint64(ino))
		if in.Mode != 0 || in.UID() != 0 || in.GID() != 0 || in.LinksCount != 0 || in.FileACL() != 0 {
			return true, bad(c.inodeWhere(ino), "bad blocks inode has mode, owner, links or xattrs")
		}
		if !allZero(in.Block[:]) || in.RawBlocks() != 0 {
			return true, unsupported(c.inodeWhere(ino), "a bad blocks list")
		}
		return true, nil
	case ino == disk.RootIno:
		if !in.IsDir() {
			return true, bad(c.inodeWhere(ino), "the root is not a directory (mode %#o)", in.Mode)
		}
		if in.Dtime != 0 && in.LinksCount != 0 {
			return true, bad(c.inodeWhere(ino), "the root has i_dtime %d", in.Dtime)
		}
		return false, nil
	case ino == disk.JournalIno:
		c.inodeUsed.set(uint64(ino))
		if sb.JournalInum != disk.JournalIno {
			return true, clear("not the journal (s_journal_inum is " + fmt.Sprint(sb.JournalInum) + ")")
		}
		if in.FileType() != disk.ModeRegular {
			return true, bad(c.inodeWhere(ino), "the journal is not a regular file (mode %#o)", in.Mode)
		}
		c.journalLinks = in.LinksCount
		return true, c.checkBlocks(ino, in)
	case ino == quotaUsrIno || ino == quotaGrpIno:
		c.inodeUsed.set(uint64(ino))
		return true, clear("quota inode without the quota feature")
	case ino == sb.OrphanFileInum:
		c.inodeUsed.set(uint64(ino))
		if !sb.FeatureCompat.Has(disk.CompatOrphanFile) {
			return true, clear("orphan file inode without the orphan_file feature")
		}
		if in.FileType() != disk.ModeRegular {
			return true, bad(c.inodeWhere(ino), "the orphan file is not a regular file (mode %#o)", in.Mode)
		}
		c.orphanSeen = true
		return true, c.checkBlocks(ino, in)
	case ino < c.lay.FirstIno:
		c.inodeUsed.set(uint64(ino))
		switch t := in.FileType(); {
		case ino == disk.BootLoaderIno && t == disk.ModeDir,
			ino == disk.ResizeIno && in.Mode != 0 && t != disk.ModeRegular,
			ino != disk.BootLoaderIno && ino != disk.ResizeIno && in.Mode != 0:
			return true, bad(c.inodeWhere(ino), "reserved inode with mode %#o", in.Mode)
		}
		return true, c.checkBlocks(ino, in)
	}
	return false, nil
}

// readInode reads and decodes one inode wherever pass 1 is.
func (c *checker) readInode(ino uint32) (*disk.Inode, []byte, error) {
	g, i := c.lay.GroupOfInode(ino)
	raw := make([]byte, c.lay.InodeSize)
	off := c.gds[g].InodeTable()*uint64(c.lay.BlockSize) + uint64(i)*uint64(c.lay.InodeSize)
	if err := c.readAt(raw, int64(off), c.inodeWhere(ino)); err != nil {
		return nil, nil, err
	}
	in := new(disk.Inode)
	if err := in.Unmarshal(raw); err != nil {
		return nil, nil, bad(c.inodeWhere(ino), "%v", err)
	}
	if c.sb.HasMetadataCsum() && !disk.VerifyInodeChecksum(disk.InodeSeed(c.seed, ino, in.Generation), raw) && !allZero(raw[:disk.GoodOldInodeSize]) {
		return nil, nil, bad(c.inodeWhere(ino), "checksum mismatch")
	}
	return in, raw, nil
}

// checkResizeInode is check_resize_inode: without resize_inode, inode 7
// maps nothing; with it, only its double indirect block is set, and that
// block lists the reserved descriptor blocks, each of which lists its
// copies in the groups holding superblock backups. (Its block count and
// size are checked in pass 1 with every other inode.)
func (c *checker) checkResizeInode() error {
	if c.lay.FirstIno <= disk.ResizeIno {
		return nil
	}
	in, _, err := c.readInode(disk.ResizeIno)
	if err != nil {
		return err
	}
	where := "resize inode (7)"
	if !c.sb.FeatureCompat.Has(disk.CompatResizeInode) {
		if !allZero(in.Block[:]) {
			return bad(where, "maps blocks, but the resize_inode feature is off")
		}
		return nil
	}
	dind := uint64(le32(in.Block[:], dindIndex))
	for i := 0; i < nPointers; i++ {
		if i != dindIndex && le32(in.Block[:], i) != 0 {
			return bad(where, "i_block[%d] is set; only the double indirect block may be", i)
		}
	}
	if dind == 0 || in.LinksCount == 0 || in.Mode&disk.ModeRegular == 0 || dind < c.lay.FirstDataBlock || dind >= c.lay.BlocksCount {
		return bad(where, "invalid (double indirect block %d, %d links, mode %#o)", dind, in.LinksCount, in.Mode)
	}
	dbuf, err := c.readBlocks(dind, 1, where+" double indirect block")
	if err != nil {
		return err
	}
	apb := uint64(c.lay.BlockSize / 4)
	gdtOff := c.lay.GdtBlocks
	pblk := c.lay.FirstDataBlock + 1 + c.lay.GdtBlocks
	for i := uint64(0); i < c.lay.ReservedGdt/4; i, gdtOff, pblk = i+1, gdtOff+1, pblk+1 {
		gdtOff %= apb
		if got := uint64(binary.LittleEndian.Uint32(dbuf[4*gdtOff:])); got != pblk {
			return bad(where, "double indirect entry %d is %d, want reserved descriptor block %d", gdtOff, got, pblk)
		}
		ibuf, err := c.readBlocks(pblk, 1, fmt.Sprintf("%s reserved descriptor block %d", where, pblk))
		if err != nil {
			return err
		}
		off := uint64(0)
		for g := uint32(1); g < c.lay.Groups; g++ {
			if !disk.HasSuper(&c.sb, g) {
				continue
			}
			if off >= apb {
				return bad(where, "more superblock backups than reserved descriptor block %d can list", pblk)
			}
			want := pblk + uint64(g)*uint64(c.lay.BlocksPerGroup)
			if got := uint64(binary.LittleEndian.Uint32(ibuf[4*off:])); got != want {
				return bad(where, "reserved descriptor block %d lists %d for group %d, want %d", pblk, got, g, want)
			}
			off++
		}
	}
	return nil
}

// checkSymlink is e2fsck_pass1_check_symlink.
func (c *checker) checkSymlink(ino uint32, in *disk.Inode) error {
	if in.SizeHigh != 0 || in.Size() == 0 || in.Flags.Has(disk.FlagIndex) {
		return bad(c.inodeWhere(ino), "invalid symlink (i_size %d, flags %#x)", in.Size(), uint32(in.Flags))
	}
	buf := in.Block[:]
	if isFastSymlink(in) {
		if in.Flags.Has(disk.FlagExtents) {
			return bad(c.inodeWhere(ino), "fast symlink with the extents flag")
		}
	} else {
		var blk uint64
		if in.Flags.Has(disk.FlagExtents) {
			h := extent.DecodeHeader(in.Block[:])
			e := extent.DecodeLeaf(in.Block[extent.HeaderSize:])
			if !extentHeaderValid(in.Block[:]) || h.Depth != 0 || h.Entries != 1 || e.Block != 0 || e.Length() != 1 {
				return bad(c.inodeWhere(ino), "slow symlink must map exactly logical block 0")
			}
			blk = e.Start()
		} else {
			blk = uint64(le32(in.Block[:], 0))
			if !allZero(in.Block[4:]) {
				return bad(c.inodeWhere(ino), "slow symlink maps more than one block")
			}
		}
		if blk < c.lay.FirstDataBlock || blk >= c.lay.BlocksCount {
			return bad(c.inodeWhere(ino), "symlink block %d outside the filesystem", blk)
		}
		b, err := c.readBlocks(blk, 1, fmt.Sprintf("inode %d symlink block %d", ino, blk))
		if err != nil {
			return err
		}
		buf = b
	}
	n := bytes.IndexByte(buf, 0)
	if n < 0 {
		return bad(c.inodeWhere(ino), "symlink target is not NUL-terminated")
	}
	if uint64(n) != in.Size() {
		return bad(c.inodeWhere(ino), "symlink target of %d bytes, but i_size %d", n, in.Size())
	}
	return nil
}

// checkJournal is e2fsck_check_ext3_journal as far as -n goes: the
// journal inode and superblock are valid and the log is empty.
func (c *checker) checkJournal() error {
	sb := &c.sb
	if !sb.FeatureCompat.Has(disk.CompatHasJournal) {
		if sb.JournalInum != 0 {
			return bad(sbWhere, "s_journal_inum %d without has_journal", sb.JournalInum)
		}
		return nil
	}
	if sb.JournalInum != disk.JournalIno {
		return unsupported(sbWhere, "journal in inode %d (only inode %d)", sb.JournalInum, disk.JournalIno)
	}
	where := "journal (inode 8)"
	bs := uint64(c.lay.BlockSize)
	total := c.journalSize / bs
	if c.journalLinks == 0 {
		return bad(where, "no links")
	}
	if total < disk.JournalMinBlocks {
		return bad(where, "%d blocks, fewer than %d", total, disk.JournalMinBlocks)
	}
	if covered := mappedFromZero(c.journalMaps); covered*bs < c.journalSize {
		return bad(where, "hole at logical block %d (i_size %d)", covered, c.journalSize)
	}
	first := c.journalMaps[0].Physical
	b, err := c.readBlocks(first, 1, where+" superblock")
	if err != nil {
		return err
	}
	where = fmt.Sprintf("journal superblock (block %d)", first)
	var j disk.JournalSuperblock
	if err := j.Unmarshal(b); err != nil {
		return bad(where, "%v", err)
	}
	v2or3 := j.HasCsumV2or3()
	switch {
	case j.Magic != disk.JournalMagic:
		return bad(where, "bad magic %#08x", j.Magic)
	case j.BlockType == disk.JournalSuperblockV1 && (j.Compat != 0 || j.Incompat != 0 || j.RoCompat != 0 || j.NrUsers != 0):
		return bad(where, "version 1 superblock with version 2 fields")
	case j.BlockType == disk.JournalSuperblockV2 && j.NrUsers > 1:
		return bad(where, "shared by %d filesystems", j.NrUsers)
	case j.BlockType != disk.JournalSuperblockV1 && j.BlockType != disk.JournalSuperblockV2:
		return bad(where, "block type %d is not a journal superblock", j.BlockType)
	case j.Incompat&^disk.JournalKnownIncompat != 0 || j.RoCompat != 0:
		return bad(where, "unknown features (incompat %#x, ro_compat %#x)", j.Incompat, j.RoCompat)
	case j.Incompat&disk.JournalIncompatCsumV2 != 0 && j.Incompat&disk.JournalIncompatCsumV3 != 0,
		v2or3 && j.Compat&disk.JournalCompatChecksum != 0:
		return bad(where, "conflicting checksum features")
	case v2or3 && j.ChecksumType != disk.JournalCsumCrc32c:
		return bad(where, "checksum type %d, want crc32c", j.ChecksumType)
	case v2or3 && disk.JournalSuperblockChecksum(b) != j.Checksum:
		return bad(where, "checksum %#08x, computed %#08x", j.Checksum, disk.JournalSuperblockChecksum(b))
	case uint64(j.BlockSize) != bs:
		return bad(where, "block size %d, filesystem's is %d", j.BlockSize, bs)
	case uint64(j.MaxLen) > total:
		return bad(where, "s_maxlen %d exceeds the journal's %d blocks", j.MaxLen, total)
	}
	if j.Incompat&disk.JournalIncompatFastCommt != 0 {
		fc := j.NumFCBlocks
		if fc == 0 {
			fc = disk.JournalDefaultFCBlocks
		}
		if fc > j.MaxLen || j.MaxLen-fc < disk.JournalMinBlocks {
			return bad(where, "%d fast commit blocks leave too little of %d", fc, j.MaxLen)
		}
	}
	if j.Start != 0 {
		return notClean(where, "log not empty (s_start %d): needs recovery; run e2fsck first", j.Start)
	}
	if j.Errno != 0 {
		return notClean(where, "journal records error %d; run e2fsck first", j.Errno)
	}
	return nil
}

// mappedFromZero is how many logical blocks from 0 are mapped without a hole.
func mappedFromZero(maps []extent.Mapping) uint64 {
	next := uint64(0)
	for _, m := range maps {
		if uint64(m.Logical) != next {
			break
		}
		next = m.End()
	}
	return next
}

// checkOrphanFile is check_init_orphan_file: with orphan_file (which needs
// a journal), the orphan file is a whole number of blocks without holes,
// each holding no entry and a valid tail.
func (c *checker) checkOrphanFile() error {
	sb := &c.sb
	if !sb.FeatureCompat.Has(disk.CompatOrphanFile) {
		return nil
	}
	ino := sb.OrphanFileInum
	where := fmt.Sprintf("orphan file (inode %d)", ino)
	switch {
	case !sb.FeatureCompat.Has(disk.CompatHasJournal):
		return bad(sbWhere, "orphan_file without a journal")
	case ino == 0 || ino > c.lay.InodesCount:
		return bad(sbWhere, "orphan_file with s_orphan_file_inum %d", ino)
	case !c.orphanSeen:
		return bad(where, "not in use")
	}
	bs := uint64(c.lay.BlockSize)
	if c.orphanSize%bs != 0 {
		return bad(where, "i_size %d is not a whole number of blocks", c.orphanSize)
	}
	nblocks := c.orphanSize / bs
	if covered := mappedFromZero(c.orphanMaps); covered < nblocks {
		return bad(where, "hole at logical block %d", covered)
	}
	want := make([]byte, bs)
	binary.LittleEndian.PutUint32(want[bs-orphanTailSize:], orphanMagic)
	seed := disk.InodeSeed(c.seed, ino, c.orphanGen)
	for _, m := range c.orphanMaps {
		for k := uint64(0); k < uint64(m.Len) && uint64(m.Logical)+k < nblocks; k++ {
			pblk := m.Physical + k
			b, err := c.readBlocks(pblk, 1, where)
			if err != nil {
				return err
			}
			if sb.HasMetadataCsum() {
				var nr [8]byte
				binary.LittleEndian.PutUint64(nr[:], pblk)
				crc := disk.Crc32c(disk.Crc32c(seed, nr[:]), want[:bs-orphanTailSize])
				binary.LittleEndian.PutUint32(want[bs-4:], crc)
			}
			if !bytes.Equal(b, want) {
				return bad(where, "block %d (logical %d) is not an empty orphan block with a valid tail", pblk, uint64(m.Logical)+k)
			}
		}
	}
	return nil
}
