package fs

import (
	"errors"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
)

// ExtentOptions describes inode ino (whose i_generation is gen) and this
// filesystem to the extent package. With checkMetadata, extent.Read also
// refuses trees that map filesystem metadata (MetadataIn).
func (f *FS) ExtentOptions(ino, gen uint32, checkMetadata bool) extent.Options {
	o := extent.Options{
		Ino:            ino,
		Csum:           f.HasMetadataCsum(),
		Seed:           f.InodeSeed(ino, gen),
		FirstDataBlock: f.geo.FirstDataBlock,
		BlocksCount:    f.geo.BlocksCount,
	}
	if checkMetadata {
		o.Metadata = f.MetadataIn
	}
	return o
}

// BlockReader is the FS as the extent package reads node blocks.
func (f *FS) BlockReader() extent.Reader { return blockReader{f} }

type blockReader struct{ f *FS }

func (r blockReader) BlockSize() int                     { return int(r.f.geo.BlockSize) }
func (r blockReader) ReadBlock(b uint64) ([]byte, error) { return r.f.ReadBlock(b) }

// extentRuns lists the mapped runs of the extent-mapped inode in, number
// ino, in logical order, for Open's checks of the journal and orphan file.
// A tree that breaks an on-disk rule is ErrCorrupt.
func (f *FS) extentRuns(ino uint32, in *disk.Inode) ([]extent.Mapping, error) {
	t, err := extent.Read(in.Block[:], f.BlockReader(), f.ExtentOptions(ino, in.Generation, false))
	if err != nil {
		if errors.Is(err, extent.ErrCorrupt) || errors.Is(err, extent.ErrChecksum) {
			return nil, fmt.Errorf("%w (%w)", err, ErrCorrupt)
		}
		return nil, err
	}
	return t.Mappings, nil
}
