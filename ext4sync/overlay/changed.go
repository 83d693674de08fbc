package overlay

import "slices"

// ChangedBlocks returns, in ascending order, the blocks (of BlockSize bytes)
// whose content differs from the base.
func (d *Device) ChangedBlocks() []int64 {
	out := make([]int64, 0, len(d.slots))
	for b := range d.slots {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// ChangedCount is the number of blocks that differ from the base.
func (d *Device) ChangedCount() int { return len(d.slots) }

// IsChanged reports whether block b differs from the base.
func (d *Device) IsChanged(b int64) bool {
	_, ok := d.slots[b]
	return ok
}

// Changed calls fn, in ascending order, for each maximal run of changed
// blocks as the byte range [start, start+n); the last block of the device
// is counted only up to the device's end. Bytes outside these ranges equal
// the base.
func (d *Device) Changed(fn func(start, n int64)) {
	blocks := d.ChangedBlocks()
	for i := 0; i < len(blocks); {
		j := i + 1
		for j < len(blocks) && blocks[j] == blocks[j-1]+1 {
			j++
		}
		start := blocks[i] * d.bs
		end := min((blocks[j-1]+1)*d.bs, d.size)
		fn(start, end-start)
		i = j
	}
}
