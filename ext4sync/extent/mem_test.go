package extent

import (
	"fmt"
	"sort"
)

// memStore is an in-memory block device that records writes.
type memStore struct {
	bs     int
	blocks map[uint64][]byte
	writes []uint64
}

func newMemStore(bs int) *memStore { return &memStore{bs: bs, blocks: map[uint64][]byte{}} }

func (m *memStore) BlockSize() int { return m.bs }

func (m *memStore) ReadBlock(blk uint64) ([]byte, error) {
	b := make([]byte, m.bs)
	copy(b, m.blocks[blk])
	return b, nil
}

func (m *memStore) WriteBlock(blk uint64, b []byte) error {
	if len(b) != m.bs {
		return fmt.Errorf("write of %d bytes", len(b))
	}
	m.blocks[blk] = append([]byte(nil), b...)
	m.writes = append(m.writes, blk)
	return nil
}

// memAlloc hands out blocks upward from next, reusing freed ones first.
type memAlloc struct {
	next  uint64
	freed []uint64
	inUse map[uint64]bool
	fail  bool
}

func newMemAlloc(next uint64) *memAlloc { return &memAlloc{next: next, inUse: map[uint64]bool{}} }

func (a *memAlloc) AllocBlock(goal uint64) (uint64, error) {
	if a.fail {
		return 0, fmt.Errorf("no space")
	}
	if len(a.freed) > 0 {
		sort.Slice(a.freed, func(i, j int) bool { return a.freed[i] < a.freed[j] })
		b := a.freed[0]
		a.freed = a.freed[1:]
		a.inUse[b] = true
		return b, nil
	}
	b := a.next
	a.next++
	a.inUse[b] = true
	return b, nil
}

func (a *memAlloc) FreeBlock(blk uint64) error {
	if !a.inUse[blk] {
		return fmt.Errorf("double free of %d", blk)
	}
	delete(a.inUse, blk)
	a.freed = append(a.freed, blk)
	return nil
}
