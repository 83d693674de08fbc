package bound

// ChangedBlocks is the number of blocks that differ (the tests check it).
func (r *Scanned) ChangedBlocks() int64 { return int64(len(r.changed)) }

// BlockSize is the block size the images were scanned in (the tests check it).
func (r *Scanned) BlockSize() int64 { return r.blockSize }
