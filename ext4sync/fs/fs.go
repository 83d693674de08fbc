package fs

import (
	"errors"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Device is the block device a filesystem lives on. Its size is taken from
// the superblock; the overlay over the base image implements it.
type Device interface {
	io.ReaderAt
	io.WriterAt
}

// Options configure Open.
type Options struct {
	// Placement chooses where new blocks and inodes go; nil means
	// DefaultPlacement.
	Placement Placement
}

// FS is an open ext4 filesystem. It is not safe for concurrent use.
type FS struct {
	dev       Device
	sb        disk.Superblock
	sbRaw     []byte // the primary superblock as last read or written
	geo       disk.Geometry
	layout    *disk.Layout // geo and where every group's metadata lives
	descSize  int
	seed      uint32
	gds       []disk.GroupDesc
	gdtRaw    []byte // the primary descriptor table as last read or written
	gdDirty   []bool
	meta      []span // metadata block ranges, sorted by start
	blockBm   map[uint32]*bitmap
	inodeBm   map[uint32]*bitmap
	freed     []uint32 // inodes freed this session, ascending
	placement Placement
	countsChg bool // free counts changed since Open/Flush
	inodeBlk  inodeBlocks
}

// Open reads and validates the filesystem on dev.
func Open(dev Device, opts Options) (*FS, error) {
	f := &FS{dev: dev, placement: opts.Placement,
		blockBm: map[uint32]*bitmap{}, inodeBm: map[uint32]*bitmap{}}
	if f.placement == nil {
		f.placement = DefaultPlacement{}
	}
	if err := f.readSuperblock(); err != nil {
		return nil, err
	}
	if err := f.checkDeviceSize(); err != nil {
		return nil, err
	}
	if err := f.readDescriptors(); err != nil {
		return nil, err
	}
	layout, err := disk.NewLayout(&f.sb, f.gds)
	if err != nil {
		return nil, corruptf("%s", detail(err))
	}
	f.layout = layout
	meta, err := f.metadataSpans()
	if err != nil {
		return nil, err
	}
	f.meta = meta
	if err := f.checkOrphans(); err != nil {
		return nil, err
	}
	if err := f.checkJournal(); err != nil {
		return nil, err
	}
	return f, nil
}

// readSuperblock reads, decodes and validates the primary superblock.
func (f *FS) readSuperblock() error {
	raw := make([]byte, disk.SuperblockSize)
	if n, err := f.dev.ReadAt(raw, disk.SuperblockOffset); n < len(raw) {
		if err == nil || errors.Is(err, io.EOF) {
			return corruptf("superblock at byte %d: truncated device (read %d of %d bytes)", disk.SuperblockOffset, n, len(raw))
		}
		return fmt.Errorf("ext4: superblock at byte %d: %w", disk.SuperblockOffset, err)
	}
	if err := f.sb.Unmarshal(raw); err != nil {
		return corruptf("superblock: %s", detail(err))
	}
	f.sbRaw = raw
	if f.sb.Magic != disk.SuperMagic {
		return corruptf("superblock at byte %d: bad magic %#04x, want %#04x", disk.SuperblockOffset, f.sb.Magic, disk.SuperMagic)
	}
	if err := checkFeatures(&f.sb); err != nil {
		return err
	}
	if f.sb.HasMetadataCsum() {
		if f.sb.ChecksumType != disk.ChecksumTypeCrc32c {
			return unsupportedf("superblock: checksum type %d (only crc32c)", f.sb.ChecksumType)
		}
		if got := f.sb.ComputeChecksum(); got != f.sb.Checksum {
			return corruptf("superblock at byte %d: checksum %#08x, computed %#08x", disk.SuperblockOffset, f.sb.Checksum, got)
		}
	}
	if err := checkState(&f.sb); err != nil {
		return err
	}
	geo, err := geometryOf(&f.sb)
	if err != nil {
		return err
	}
	f.geo = geo
	f.descSize = f.sb.DescriptorSize()
	f.seed = f.sb.CsumSeed()
	return nil
}

// checkDeviceSize makes sure the last block of the filesystem is readable.
func (f *FS) checkDeviceSize() error {
	var b [1]byte
	end := int64(f.geo.BlocksCount)*int64(f.geo.BlockSize) - 1
	if n, err := f.dev.ReadAt(b[:], end); n != 1 {
		return corruptf("device: truncated: cannot read byte %d (last of %d blocks): %v", end, f.geo.BlocksCount, err)
	}
	return nil
}

// Superblock returns a copy of the in-memory superblock (free counts are
// those Flush will write).
func (f *FS) Superblock() disk.Superblock { return f.sb }

// Geometry returns the filesystem's geometry.
func (f *FS) Geometry() disk.Geometry { return f.geo }

// Layout returns where the filesystem keeps its metadata. The caller must
// not modify it.
func (f *FS) Layout() *disk.Layout { return f.layout }

// BlockSize is the filesystem block size in bytes.
func (f *FS) BlockSize() uint32 { return f.geo.BlockSize }

// BlocksCount is the number of blocks in the filesystem.
func (f *FS) BlocksCount() uint64 { return f.geo.BlocksCount }

// InodesCount is the number of inodes in the filesystem.
func (f *FS) InodesCount() uint32 { return f.geo.InodesCount }

// InodeSize is the on-disk size of one inode.
func (f *FS) InodeSize() int { return int(f.geo.InodeSize) }

// CsumSeed is the seed of metadata_csum checksums (see disk.Superblock.CsumSeed).
func (f *FS) CsumSeed() uint32 { return f.seed }

// InodeSeed is the checksum seed of inode ino with generation gen, which
// extent, directory and xattr checksums of that inode start from.
func (f *FS) InodeSeed(ino, gen uint32) uint32 { return disk.InodeSeed(f.seed, ino, gen) }

// HasMetadataCsum reports whether metadata checksums are on.
func (f *FS) HasMetadataCsum() bool { return f.sb.HasMetadataCsum() }

// HasCompat reports whether all compat features in c are set.
func (f *FS) HasCompat(c disk.Compat) bool { return f.sb.FeatureCompat.Has(c) }

// HasIncompat reports whether all incompat features in c are set.
func (f *FS) HasIncompat(c disk.Incompat) bool { return f.sb.FeatureIncompat.Has(c) }

// HasRoCompat reports whether all ro_compat features in c are set.
func (f *FS) HasRoCompat(c disk.RoCompat) bool { return f.sb.FeatureRoCompat.Has(c) }

// HashSeed is s_hash_seed, the seed of directory index hashes.
func (f *FS) HashSeed() [4]uint32 { return f.sb.HashSeed }

// DefaultHashVersion is s_def_hash_version (0 legacy, 1 half_md4, 2 tea).
func (f *FS) DefaultHashVersion() uint8 { return f.sb.DefHashVersion }

// UnsignedHash reports whether directory hashes treat names as unsigned
// chars (s_flags), which selects the *_unsigned hash variants.
func (f *FS) UnsignedHash() bool { return f.sb.Flags&disk.FlagUnsignedHash != 0 }

// ReadBlock reads block blk.
func (f *FS) ReadBlock(blk uint64) ([]byte, error) {
	if blk >= f.geo.BlocksCount {
		return nil, invalidf("read block %d: beyond the %d blocks of the filesystem", blk, f.geo.BlocksCount)
	}
	b := make([]byte, f.geo.BlockSize)
	if err := f.readAt(b, int64(blk)*int64(f.geo.BlockSize)); err != nil {
		return nil, wrapf(err, "read block %d", blk)
	}
	return b, nil
}

// WriteBlock writes b (exactly one block) to block blk.
func (f *FS) WriteBlock(blk uint64, b []byte) error {
	if blk >= f.geo.BlocksCount {
		return invalidf("write block %d: beyond the %d blocks of the filesystem", blk, f.geo.BlocksCount)
	}
	if len(b) != int(f.geo.BlockSize) {
		return invalidf("write block %d: %d bytes, block size is %d", blk, len(b), f.geo.BlockSize)
	}
	defer f.dropInodeBlocks()
	if _, err := f.dev.WriteAt(b, int64(blk)*int64(f.geo.BlockSize)); err != nil {
		return fmt.Errorf("ext4: write block %d: %w", blk, err)
	}
	return nil
}

// readAt fills b from byte off; a short read is ErrCorrupt (the device
// ends inside the filesystem), other failures are returned as they are.
func (f *FS) readAt(b []byte, off int64) error {
	n, err := f.dev.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return corruptf("device truncated: read %d of %d bytes at byte %d", n, len(b), off)
	}
	return err
}

// ReadBlocks reads n consecutive blocks from start in one device read.
func (f *FS) ReadBlocks(start, n uint64) ([]byte, error) {
	if start >= f.geo.BlocksCount || n > f.geo.BlocksCount-start {
		return nil, invalidf("read blocks %d+%d: beyond the %d blocks of the filesystem", start, n, f.geo.BlocksCount)
	}
	b := make([]byte, n*uint64(f.geo.BlockSize))
	if err := f.readAt(b, int64(start)*int64(f.geo.BlockSize)); err != nil {
		return nil, wrapf(err, "read blocks %d+%d", start, n)
	}
	return b, nil
}

// ReadBlocksInto fills b, a whole number of blocks, with the blocks from
// start on, in one device read.
func (f *FS) ReadBlocksInto(start uint64, b []byte) error {
	bs := uint64(f.geo.BlockSize)
	n := uint64(len(b)) / bs
	if uint64(len(b))%bs != 0 || n == 0 {
		return invalidf("read blocks at %d: %d bytes is not a whole number of %d-byte blocks", start, len(b), bs)
	}
	if start >= f.geo.BlocksCount || n > f.geo.BlocksCount-start {
		return invalidf("read blocks %d+%d: beyond the %d blocks of the filesystem", start, n, f.geo.BlocksCount)
	}
	if err := f.readAt(b, int64(start)*int64(bs)); err != nil {
		return wrapf(err, "read blocks %d+%d", start, n)
	}
	return nil
}

// WriteBlocks writes b, a whole number of blocks, from block start in one
// device write.
func (f *FS) WriteBlocks(start uint64, b []byte) error {
	bs := uint64(f.geo.BlockSize)
	n := uint64(len(b)) / bs
	if uint64(len(b))%bs != 0 || n == 0 {
		return invalidf("write blocks at %d: %d bytes is not a whole number of %d-byte blocks", start, len(b), bs)
	}
	if start >= f.geo.BlocksCount || n > f.geo.BlocksCount-start {
		return invalidf("write blocks %d+%d: beyond the %d blocks of the filesystem", start, n, f.geo.BlocksCount)
	}
	defer f.dropInodeBlocks()
	if _, err := f.dev.WriteAt(b, int64(start)*int64(bs)); err != nil {
		return fmt.Errorf("ext4: write blocks %d+%d: %w", start, n, err)
	}
	return nil
}
