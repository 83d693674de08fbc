package checktest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
)

// Ways to change a byte.
const (
	ModeFlip   = "bit flips"
	ModeRandom = "random bytes"
	ModeZero   = "zeros"
)

// Damage says what Corrupt changed.
type Damage struct {
	Target  Target
	Mode    string
	Changed []Change // bytes that differ after the change, before re-checksumming
}

// Change is one byte changed, at its offset in the block.
type Change struct {
	Off      int
	Old, New byte
}

func (d Damage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s at", d.Target, d.Mode)
	for _, c := range d.Changed {
		fmt.Fprintf(&b, " %#x:%02x>%02x", c.Off, c.Old, c.New)
	}
	return b.String()
}

// maxBytes is the most bytes one corruption changes.
const maxBytes = 16

// Corrupt changes 1 to 16 bytes of target t in the image at path (a
// contiguous run or scattered bytes; bit flips, random bytes or zeros),
// then recomputes the checksums that cover them so that only the meaning
// is damaged. It retries until at least one byte actually changes.
func (im *Image) Corrupt(path string, t Target, rng *rand.Rand) (Damage, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Damage{}, err
	}
	defer f.Close()
	b := make([]byte, im.bs)
	off := int64(t.Block * im.bs)
	if _, err := f.ReadAt(b, off); err != nil {
		return Damage{}, err
	}
	d := Damage{Target: t, Mode: []string{ModeFlip, ModeRandom, ModeZero}[rng.IntN(3)]}
	for try := 0; try < 16 && len(d.Changed) == 0; try++ {
		n := 1 + rng.IntN(maxBytes)
		span := t.Hi - t.Lo
		n = min(n, span)
		var at []int
		if rng.IntN(2) == 0 {
			start := t.Lo + rng.IntN(span-n+1)
			for i := 0; i < n; i++ {
				at = append(at, start+i)
			}
		} else {
			for i := 0; i < n; i++ {
				at = append(at, t.Lo+rng.IntN(span))
			}
		}
		for _, p := range at {
			old := b[p]
			switch d.Mode {
			case ModeFlip:
				b[p] ^= 1 << rng.IntN(8)
			case ModeRandom:
				b[p] = byte(rng.IntN(256))
			default:
				b[p] = 0
			}
			if b[p] != old {
				d.Changed = append(d.Changed, Change{Off: p, Old: old, New: b[p]})
			}
		}
	}
	if err := im.rechecksum(f, t, b); err != nil {
		return d, err
	}
	if _, err := f.WriteAt(b, off); err != nil {
		return d, err
	}
	return d, nil
}

// rechecksum recomputes, in b (target t's block) or in the descriptor
// table, the checksums that cover b. It uses the clean image's seed: a
// change to the seed itself leaves every other checksum wrong, which is
// damage as well.
func (im *Image) rechecksum(f *os.File, t Target, b []byte) error {
	sb := &im.sb
	csum := sb.HasMetadataCsum()
	bs := int(im.bs)
	switch t.Kind {
	case KindSuperblock:
		if csum {
			s := b[t.Lo:t.Hi]
			binary.LittleEndian.PutUint32(s[0x3FC:], disk.Crc32c(^uint32(0), s[:0x3FC]))
		}
	case KindDescriptors:
		if sb.HasGroupDescCsum() {
			ds := sb.DescriptorSize()
			first := int((t.Block - im.gdt) * im.bs / uint64(ds))
			for i := 0; i*ds < t.Hi; i++ {
				raw := b[i*ds : (i+1)*ds]
				binary.LittleEndian.PutUint16(raw[0x1E:], disk.GroupDescChecksum(sb, uint32(first+i), raw))
			}
		}
	case KindBlockBitmap, KindInodeBitmap:
		if csum {
			return im.setBitmapCsum(f, t, b)
		}
	case KindInodeTable:
		if csum {
			perBlock := bs / int(im.isz)
			idx := int(t.Block-im.gds[t.Group].InodeTable()) * perBlock
			for k := 0; k < perBlock; k++ {
				raw := b[k*int(im.isz) : (k+1)*int(im.isz)]
				if allZero(raw) {
					continue
				}
				ino := t.Group*im.ipg + uint32(idx+k) + 1
				gen := binary.LittleEndian.Uint32(raw[0x64:])
				crc := disk.InodeChecksum(disk.InodeSeed(im.seed, ino, gen), raw)
				binary.LittleEndian.PutUint16(raw[0x7C:], uint16(crc))
				if len(raw) > disk.GoodOldInodeSize+2 && le16(raw[0x80:]) >= 4 {
					binary.LittleEndian.PutUint16(raw[0x82:], uint16(crc>>16))
				}
			}
		}
	case KindExtent:
		if csum {
			tail := 12 + 12*int(le16(b[4:]))
			if tail+4 <= bs {
				binary.LittleEndian.PutUint32(b[tail:], disk.Crc32c(disk.InodeSeed(im.seed, t.Ino, t.Gen), b[:tail]))
			}
		}
	case KindDirLeaf:
		if csum && le16(b[bs-8:]) == 12 && b[bs-5] == 0xDE {
			binary.LittleEndian.PutUint32(b[bs-4:], disk.Crc32c(disk.InodeSeed(im.seed, t.Ino, t.Gen), b[:bs-12]))
		}
	case KindDirIndex:
		if csum {
			countOff := 8
			if t.Root {
				countOff = 0x18 + int(b[0x1D])
			}
			if countOff+4 <= bs {
				limit, count := int(le16(b[countOff:])), int(le16(b[countOff+2:]))
				tail := countOff + 8*limit
				if count <= limit && tail+8 <= bs {
					crc := disk.Crc32c(disk.InodeSeed(im.seed, t.Ino, t.Gen), b[:countOff+8*count])
					crc = disk.Crc32c(crc, b[tail:tail+4])
					crc = disk.Crc32c(crc, []byte{0, 0, 0, 0})
					binary.LittleEndian.PutUint32(b[tail+4:], crc)
				}
			}
		}
	case KindXattr:
		if csum {
			xattr.SetBlockChecksum(b, t.Block, im.seed)
		}
	case KindJournal:
		if binary.BigEndian.Uint32(b[0x28:])&(disk.JournalIncompatCsumV2|disk.JournalIncompatCsumV3) != 0 {
			binary.BigEndian.PutUint32(b[0xFC:], disk.JournalSuperblockChecksum(b))
		}
	case KindOrphan:
		if csum {
			var nr [8]byte
			binary.LittleEndian.PutUint64(nr[:], t.Block)
			crc := disk.Crc32c(disk.Crc32c(disk.InodeSeed(im.seed, t.Ino, t.Gen), nr[:]), b[:bs-8])
			binary.LittleEndian.PutUint32(b[bs-4:], crc)
		}
	}
	return nil
}

// setBitmapCsum stores b's checksum in its group's descriptor and fixes
// the descriptor's own checksum.
func (im *Image) setBitmapCsum(f *os.File, t Target, b []byte) error {
	sb := &im.sb
	ds := uint64(sb.DescriptorSize())
	blk := im.gdt + uint64(t.Group)*ds/im.bs
	off := uint64(t.Group) * ds % im.bs
	gdb := make([]byte, im.bs)
	if _, err := f.ReadAt(gdb, int64(blk*im.bs)); err != nil {
		return err
	}
	var gd disk.GroupDesc
	if err := gd.Unmarshal(gdb[off:], int(ds)); err != nil {
		return err
	}
	bcs, ics := gd.BlockBitmapCsum(int(ds)), gd.InodeBitmapCsum(int(ds))
	if t.Kind == KindBlockBitmap {
		bcs = disk.BlockBitmapChecksum(im.seed, b, sb.BlocksPerGroup)
	} else {
		ics = disk.InodeBitmapChecksum(im.seed, b, sb.InodesPerGroup)
	}
	gd.SetBitmapChecksums(int(ds), bcs, ics)
	gd.SetChecksum(sb, t.Group)
	if err := gd.Marshal(gdb[off:off+ds], int(ds)); err != nil {
		return err
	}
	_, err := f.WriteAt(gdb, int64(blk*im.bs))
	return err
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// Patch writes data at byte off of target t in the image at path and
// recomputes the checksums that cover it: a crafted inconsistency.
func (im *Image) Patch(path string, t Target, off int, data []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, im.bs)
	pos := int64(t.Block * im.bs)
	if _, err := f.ReadAt(b, pos); err != nil {
		return err
	}
	copy(b[off:], data)
	if err := im.rechecksum(f, t, b); err != nil {
		return err
	}
	_, err = f.WriteAt(b, pos)
	return err
}

// Find returns the target of kind in block blk.
func (im *Image) Find(kind string, blk uint64) (Target, bool) {
	for _, t := range im.items[kind] {
		if t.Block == blk {
			return t, true
		}
	}
	return Target{}, false
}
