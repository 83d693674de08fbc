package bound

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// Bound is the lower bound of one release under one model.
type Bound struct {
	// Units is |U(M)| + DataUnits: no placement changes fewer write units.
	Units int64 `json:"units"`
	// MetaUnits is |U(M)|, the units holding metadata that must change;
	// DataUnits the units new data needs beyond the room left in them.
	MetaUnits int64 `json:"metadata_units"`
	DataUnits int64 `json:"data_units"`
	// DataBlocks is D; MetaBlocks the blocks of M.
	DataBlocks int64 `json:"data_blocks"`
	MetaBlocks int64 `json:"metadata_blocks"`
	// ChunksWritten is the fewest snapshot chunks those units cover and
	// COWBytes the exception store they need (cow-model.md's formula).
	ChunksWritten int64 `json:"chunks_written"`
	COWBytes      int64 `json:"cow_bytes"`
}

// Bound computes the lower bound under model m (its image the one the
// facts were gathered from).
func (f *Facts) Bound(m blockmap.Model) (Bound, error) {
	if err := m.Validate(); err != nil {
		return Bound{}, fmt.Errorf("bound: %w", err)
	}
	if f.Layout == nil || f.Layout.BlockSize == 0 {
		return Bound{}, errors.New("bound: no layout")
	}
	bs := int64(f.Layout.BlockSize)
	meta := slices.Clone(f.Forced)
	if f.InodesDelta != 0 && len(f.Layout.Group) > 0 {
		meta = append(meta, f.cheapestInodeGroup(m, meta)...)
	}
	rs, err := m.BlockRanges(toInt64(meta), bs)
	if err != nil {
		return Bound{}, fmt.Errorf("bound: metadata: %w", err)
	}
	metaRes, metaUnits, err := m.EstimateRanges(rs)
	if err != nil {
		return Bound{}, fmt.Errorf("bound: metadata: %w", err)
	}
	// New data beyond the room left in the metadata units, at most what
	// the other units hold.
	need := min(max(0, f.NewData*bs-f.room(m, metaUnits)), capacity(m, metaUnits))
	dataUnits := ceilDiv(need, m.WriteUnit)
	b := Bound{
		MetaUnits:  int64(len(metaUnits)),
		DataUnits:  dataUnits,
		Units:      int64(len(metaUnits)) + dataUnits,
		DataBlocks: f.NewData,
		MetaBlocks: int64(len(slices.Compact(slices.Sorted(slices.Values(meta))))),
	}
	b.ChunksWritten = chunks(m, metaRes.ChunksWritten, metaUnits, dataUnits, need)
	b.COWBytes = m.COWBytes(b.ChunksWritten)
	return b, nil
}

// chunks is the fewest chunks that the metadata units (covering
// metaChunks) and dataUnits other units holding need bytes can cover.
func chunks(m blockmap.Model, metaChunks int64, metaUnits []int64, dataUnits, need int64) int64 {
	if dataUnits == 0 {
		return metaChunks
	}
	last := m.Units() - 1
	_, lastLen := m.UnitSpan(last)
	// The image's last unit may be short: using it saves chunks if the
	// other data units still hold the rest.
	useLast := lastLen < m.WriteUnit && (len(metaUnits) == 0 || metaUnits[len(metaUnits)-1] != last) &&
		(dataUnits-1)*m.WriteUnit+lastLen >= need
	if m.WriteUnit%m.Chunk == 0 {
		// Units cover whole chunks of their own, written whole.
		per := m.WriteUnit / m.Chunk
		if useLast {
			return metaChunks + (dataUnits-1)*per + ceilDiv(lastLen, m.Chunk)
		}
		return metaChunks + dataUnits*per
	}
	// Units smaller than (or not a multiple of) a chunk may share chunks:
	// count the bytes of all the units.
	total := (int64(len(metaUnits)) + dataUnits) * m.WriteUnit
	if lastLen < m.WriteUnit {
		total -= m.WriteUnit - lastLen
	}
	return max(metaChunks, ceilDiv(total, m.Chunk))
}

// capacity is the bytes of the units not in metaUnits (ascending).
func capacity(m blockmap.Model, metaUnits []int64) int64 {
	n := (m.Units() - int64(len(metaUnits))) * m.WriteUnit
	last := m.Units() - 1
	if _, lastLen := m.UnitSpan(last); len(metaUnits) == 0 || metaUnits[len(metaUnits)-1] != last {
		n -= m.WriteUnit - lastLen
	}
	return n
}

// cheapestInodeGroup returns the inode bitmap and descriptor block of the
// group whose two blocks add the fewest units to those of meta (the first
// such group).
func (f *Facts) cheapestInodeGroup(m blockmap.Model, meta []uint64) []uint64 {
	l := f.Layout
	bs := int64(l.BlockSize)
	have := map[int64]bool{}
	for _, b := range meta {
		first, last, _ := m.UnitsOf(int64(b)*bs, bs)
		for u := first; u <= last; u++ {
			have[u] = true
		}
	}
	var best []uint64
	bestCost := int64(-1)
	for g := range l.Group {
		blocks := []uint64{l.InodeBitmap(uint32(g)), l.DescBlock(uint32(g))}
		extra := map[int64]bool{}
		for _, b := range blocks {
			first, last, _ := m.UnitsOf(int64(b)*bs, bs)
			for u := first; u <= last; u++ {
				if !have[u] {
					extra[u] = true
				}
			}
		}
		if cost := int64(len(extra)); bestCost < 0 || cost < bestCost {
			best, bestCost = blocks, cost
		}
	}
	return best
}

// room is the bytes of the given units (ascending) outside every metadata
// block of the layout: the most new data those units could take.
func (f *Facts) room(m blockmap.Model, units []int64) int64 {
	bs := int64(f.Layout.BlockSize)
	var spans []blockmap.Range
	for _, s := range f.Layout.MetadataSpans() {
		spans = append(spans, blockmap.Range{Off: int64(s.Start) * bs, Len: int64(s.End-s.Start) * bs})
	}
	spans = blockmap.Normalize(spans)
	var room int64
	for _, u := range units {
		off, n := m.UnitSpan(u)
		end := off + n
		used := int64(0)
		i := sort.Search(len(spans), func(i int) bool { return spans[i].End() > off })
		for ; i < len(spans) && spans[i].Off < end; i++ {
			used += min(end, spans[i].End()) - max(off, spans[i].Off)
		}
		room += n - used
	}
	return room
}

func toInt64(v []uint64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
