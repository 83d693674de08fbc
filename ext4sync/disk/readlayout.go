package disk

import (
	"fmt"
	"io"
)

// ReadLayout reads the primary superblock and descriptor table of the ext4
// filesystem on r and returns its layout. It verifies no checksum and
// checks only what NewLayout checks, so it describes any image whose
// superblock is sane enough to have one: what the engine supports is
// fs.Open's to decide.
func ReadLayout(r io.ReaderAt) (*Layout, error) {
	raw := make([]byte, SuperblockSize)
	if _, err := r.ReadAt(raw, SuperblockOffset); err != nil {
		return nil, fmt.Errorf("ext4: read superblock at byte %d: %w", SuperblockOffset, err)
	}
	var sb Superblock
	if err := sb.Unmarshal(raw); err != nil {
		return nil, err
	}
	if sb.Magic != SuperMagic {
		return nil, fmt.Errorf("ext4: superblock magic %#x: %w", sb.Magic, ErrGeometry)
	}
	geo, err := GeometryOf(&sb)
	if err != nil {
		return nil, err
	}
	bs := uint64(geo.BlockSize)
	gdt := make([]byte, geo.GdtBlocks*bs)
	if _, err := r.ReadAt(gdt, int64(geo.GdtStart()*bs)); err != nil {
		return nil, fmt.Errorf("ext4: read group descriptors at block %d: %w", geo.GdtStart(), err)
	}
	gds := make([]GroupDesc, geo.Groups)
	for g := range gds {
		if err := gds[g].Unmarshal(gdt[g*geo.DescSize:], geo.DescSize); err != nil {
			return nil, fmt.Errorf("ext4: group %d descriptor: %w", g, err)
		}
	}
	return NewLayout(&sb, gds)
}
