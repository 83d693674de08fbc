package dirsource

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// EachConcurrent is Each with fn called from up to workers goroutines at
// once, each call for another file (tree.Concurrent): every file is
// opened on its own, so reading one does not wait for another. Files are
// handed out in Each's order; once a call fails no further file is
// started, and the error returned is that of the first failing file in
// that order, whatever the timing.
func (c *contents) EachConcurrent(workers int, fn func(n *tree.Node, r io.Reader) error) error {
	if workers <= 1 || len(c.nodes) < 2 {
		return c.Each(fn)
	}
	var (
		next    atomic.Int64 // index of the next file to hand out
		failed  atomic.Bool
		mu      sync.Mutex
		errAt   = len(c.nodes)
		errSeen error
		wg      sync.WaitGroup
	)
	for range min(workers, len(c.nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(c.nodes) {
					return
				}
				if err := c.one(c.nodes[i], fn); err != nil {
					mu.Lock()
					if i < errAt {
						errAt, errSeen = i, err
					}
					mu.Unlock()
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return errSeen
}
