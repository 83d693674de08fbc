// Package checktest damages ext4 images the way issue 13's hostile user
// did, for the corruption harness and the checker's fuzz seeds: it lists
// the metadata blocks of a clean image, changes 1 to 16 bytes of one of
// them (bit flips, random bytes or zeros) and recomputes every checksum
// the change broke, so the damage is in the metadata's meaning, not in
// its checksums.
//
// It finds and re-checksums blocks with the engine's format layer (disk,
// extent, xattr); it judges nothing. Test support only: the judges of the
// images it damages are e2fsck and package ext4test.
package checktest

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// Kinds of metadata block.
const (
	KindSuperblock  = "superblock"
	KindDescriptors = "group descriptors"
	KindBlockBitmap = "block bitmap"
	KindInodeBitmap = "inode bitmap"
	KindInodeTable  = "inode table"
	KindReservedGDT = "reserved descriptors"
	KindExtent      = "extent tree block"
	KindDirLeaf     = "directory block"
	KindDirIndex    = "htree index block"
	KindXattr       = "xattr block"
	KindJournal     = "journal superblock"
	KindOrphan      = "orphan file block"
)

// Kinds lists every kind, in a fixed order.
var Kinds = []string{KindSuperblock, KindDescriptors, KindBlockBitmap, KindInodeBitmap, KindInodeTable,
	KindReservedGDT, KindExtent, KindDirLeaf, KindDirIndex, KindXattr, KindJournal, KindOrphan}

// Target is one metadata block and what is needed to re-checksum it.
type Target struct {
	Kind   string
	Block  uint64
	Lo, Hi int    // the bytes of the block that belong to the structure
	Group  uint32 // bitmaps, descriptors
	Ino    uint32 // owner inode (extent, directory, orphan blocks)
	Gen    uint32 // the owner's i_generation
	Root   bool   // an htree root (logical block 0 of an indexed directory)
}

func (t Target) String() string {
	s := fmt.Sprintf("%s block %d", t.Kind, t.Block)
	if t.Ino != 0 {
		s += fmt.Sprintf(" (inode %d)", t.Ino)
	}
	return s
}

// Image is a clean image's layout as Targets needs it.
type Image struct {
	sb    disk.Superblock
	gds   []disk.GroupDesc
	bs    uint64
	isz   uint64
	ipg   uint32
	seed  uint32
	gdt   uint64 // first descriptor table block
	gdtN  uint64
	items map[string][]Target
}

// Open reads the superblock and descriptors of a clean image at path and
// lists its metadata blocks by kind.
func Open(path string) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	im := &Image{items: map[string][]Target{}}
	raw := make([]byte, disk.SuperblockSize)
	if _, err := f.ReadAt(raw, disk.SuperblockOffset); err != nil {
		return nil, err
	}
	if err := im.sb.Unmarshal(raw); err != nil {
		return nil, err
	}
	sb := &im.sb
	im.bs, im.ipg, im.seed = uint64(sb.BlockSize()), sb.InodesPerGroup, sb.CsumSeed()
	im.isz = uint64(sb.InodeSize)
	groups := (sb.BlocksCount() - uint64(sb.FirstDataBlock) + uint64(sb.BlocksPerGroup) - 1) / uint64(sb.BlocksPerGroup)
	ds := uint64(sb.DescriptorSize())
	im.gdt = uint64(sb.FirstDataBlock) + 1
	im.gdtN = (groups*ds + im.bs - 1) / im.bs
	gdt := make([]byte, im.gdtN*im.bs)
	if _, err := f.ReadAt(gdt, int64(im.gdt*im.bs)); err != nil {
		return nil, err
	}
	im.gds = make([]disk.GroupDesc, groups)
	for g := range im.gds {
		if err := im.gds[g].Unmarshal(gdt[uint64(g)*ds:], int(ds)); err != nil {
			return nil, err
		}
	}
	sbBlock := uint64(disk.SuperblockOffset) / im.bs
	sbLo := int(uint64(disk.SuperblockOffset) - sbBlock*im.bs)
	im.add(Target{Kind: KindSuperblock, Block: sbBlock, Lo: sbLo, Hi: sbLo + disk.SuperblockSize})
	for i := uint64(0); i < im.gdtN; i++ {
		im.add(Target{Kind: KindDescriptors, Block: im.gdt + i, Hi: int(min(im.bs, groups*ds-i*im.bs))})
	}
	for i := uint64(0); i < uint64(sb.ReservedGdtBlocks); i++ {
		im.add(Target{Kind: KindReservedGDT, Block: im.gdt + im.gdtN + i, Hi: int(im.bs)})
	}
	csumGD := sb.HasGroupDescCsum()
	for g := range im.gds {
		gd := &im.gds[g]
		if !csumGD || gd.Flags&disk.BgBlockUninit == 0 {
			im.add(Target{Kind: KindBlockBitmap, Block: gd.BlockBitmap(), Hi: int(im.bs), Group: uint32(g)})
		}
		if !csumGD || gd.Flags&disk.BgInodeUninit == 0 {
			im.add(Target{Kind: KindInodeBitmap, Block: gd.InodeBitmap(), Hi: int(im.bs), Group: uint32(g)})
			used := uint64(im.ipg)
			if csumGD {
				used -= uint64(gd.ItableUnused())
			}
			for b := uint64(0); b*im.bs < used*im.isz; b++ {
				im.add(Target{Kind: KindInodeTable, Block: gd.InodeTable() + b, Hi: int(im.bs), Group: uint32(g)})
			}
		}
	}
	if err := im.walkInodes(f); err != nil {
		return nil, err
	}
	return im, nil
}

func (im *Image) add(t Target) { im.items[t.Kind] = append(im.items[t.Kind], t) }

// Targets lists the image's metadata blocks of kind.
func (im *Image) Targets(kind string) []Target { return im.items[kind] }

// BlockSize is the image's block size.
func (im *Image) BlockSize() int { return int(im.bs) }

type fileReader struct {
	f  io.ReaderAt
	bs int
}

func (r fileReader) BlockSize() int { return r.bs }
func (r fileReader) ReadBlock(blk uint64) ([]byte, error) {
	b := make([]byte, r.bs)
	_, err := r.f.ReadAt(b, int64(blk)*int64(r.bs))
	return b, err
}

// walkInodes lists the blocks in-use inodes own: extent tree nodes,
// directory blocks, xattr blocks, the journal superblock and the orphan
// file.
func (im *Image) walkInodes(f *os.File) error {
	sb := &im.sb
	seenX := map[uint64]bool{}
	buf := make([]byte, im.isz)
	for g := range im.gds {
		gd := &im.gds[g]
		used := im.ipg
		if sb.HasGroupDescCsum() {
			if gd.Flags&disk.BgInodeUninit != 0 {
				continue
			}
			used -= gd.ItableUnused()
		}
		for i := uint32(0); i < used; i++ {
			ino := uint32(g)*im.ipg + i + 1
			if _, err := f.ReadAt(buf, int64(gd.InodeTable()*im.bs+uint64(i)*im.isz)); err != nil {
				return err
			}
			var in disk.Inode
			if err := in.Unmarshal(buf); err != nil {
				return fmt.Errorf("inode %d: %w", ino, err)
			}
			if in.LinksCount == 0 && ino != disk.JournalIno {
				continue
			}
			if x := in.FileACL(); x != 0 && !seenX[x] {
				seenX[x] = true
				im.add(Target{Kind: KindXattr, Block: x, Hi: int(im.bs), Ino: ino})
			}
			if !in.Flags.Has(disk.FlagExtents) || (in.FileType() == disk.ModeSymlink && in.Size() < disk.InodeBlockLen) {
				continue
			}
			t, err := extent.Read(in.Block[:], fileReader{f, int(im.bs)}, extent.Options{Ino: ino,
				FirstDataBlock: uint64(sb.FirstDataBlock), BlocksCount: sb.BlocksCount()})
			if err != nil {
				return err
			}
			for _, n := range t.Nodes {
				im.add(Target{Kind: KindExtent, Block: n, Hi: int(im.bs), Ino: ino, Gen: in.Generation})
			}
			switch {
			case in.IsDir():
				for _, m := range t.Mappings {
					for k := uint64(0); k < uint64(m.Len); k++ {
						lblk := uint64(m.Logical) + k
						kind := KindDirLeaf
						root := lblk == 0 && in.Flags.Has(disk.FlagIndex)
						if root || in.Flags.Has(disk.FlagIndex) && im.isDxNode(f, m.Physical+k) {
							kind = KindDirIndex
						}
						im.add(Target{Kind: kind, Block: m.Physical + k, Hi: int(im.bs), Ino: ino, Gen: in.Generation, Root: root})
					}
				}
			case ino == sb.JournalInum && len(t.Mappings) > 0:
				im.add(Target{Kind: KindJournal, Block: t.Mappings[0].Physical, Hi: disk.JournalSuperblockSize, Ino: ino})
			case ino == sb.OrphanFileInum:
				for _, m := range t.Mappings {
					for k := uint64(0); k < uint64(m.Len); k++ {
						im.add(Target{Kind: KindOrphan, Block: m.Physical + k, Hi: int(im.bs), Ino: ino, Gen: in.Generation})
					}
				}
			}
		}
	}
	return nil
}

func (im *Image) isDxNode(f io.ReaderAt, blk uint64) bool {
	b := make([]byte, im.bs)
	if _, err := f.ReadAt(b, int64(blk*im.bs)); err != nil {
		return false
	}
	return dir.IsDxNode(b, im.sb.HasMetadataCsum())
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
