package placement

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"

var _ fs.WriteExpecter = (*Policy)(nil)

// ExpectWrites implements fs.WriteExpecter: the units holding blocks the
// sync will overwrite in place are dirty from now on, so later answers
// (and Rewrite's costs) count them as free to write into before the
// bytes reach the device. A view the policy cannot use is ignored here;
// the next allocation reports it.
func (p *Policy) ExpectWrites(v fs.SpaceView, blocks []uint64) {
	if p.setup(v.Layout()) != nil {
		return
	}
	for _, b := range blocks {
		p.markBlockDirty(b)
	}
}
