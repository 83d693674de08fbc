package fs

// GroupStat is the state of one block group as its descriptor records it
// (including changes not yet flushed).
type GroupStat struct {
	FreeBlocks   uint32
	FreeInodes   uint32
	UsedDirs     uint32
	ItableUnused uint32
	Flags        uint16 // disk.Bg* flags
}

func (f *FS) groupStat(g uint32) GroupStat {
	if g >= f.geo.Groups {
		return GroupStat{}
	}
	gd := &f.gds[g]
	return GroupStat{
		FreeBlocks:   gd.FreeBlocksCount(),
		FreeInodes:   gd.FreeInodesCount(),
		UsedDirs:     gd.UsedDirsCount(),
		ItableUnused: gd.ItableUnused(),
		Flags:        gd.Flags,
	}
}

// GroupStats returns every group's counts, indexed by group.
func (f *FS) GroupStats() []GroupStat {
	out := make([]GroupStat, f.geo.Groups)
	for g := range out {
		out[g] = f.groupStat(uint32(g))
	}
	return out
}

// FreeBlocksCount is the number of free blocks (the sum over the groups).
func (f *FS) FreeBlocksCount() uint64 {
	var n uint64
	for g := range f.gds {
		n += uint64(f.gds[g].FreeBlocksCount())
	}
	return n
}

// FreeInodesCount is the number of free inodes (the sum over the groups).
func (f *FS) FreeInodesCount() uint64 {
	var n uint64
	for g := range f.gds {
		n += uint64(f.gds[g].FreeInodesCount())
	}
	return n
}
