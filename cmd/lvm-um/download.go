package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/apply"
	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/host"
	"github.com/lvm-um-gen/lvm-um-gen/generator/sparse"
)

// download is the Download state: pre-flight, then the snapshot, the
// write pass over the payload stream, and the read-back. On any failure
// after the snapshot exists it removes the snapshot again; the origin is
// only ever read.
func (m *module) download(ctx context.Context, withSizes bool) (err error) {
	m.log.Printf("version %s", version)
	rel, err := m.readRelease()
	if err != nil {
		return err
	}
	v, err := m.find(ctx)
	if err != nil {
		return err
	}
	if on, dev, err := m.runsFrom(v.origin); err != nil {
		return err
	} else if !on {
		return badInput(fmt.Errorf("origin volume %s (device %d:%d) is not the running rootfs (%s is on device %s; config origin, root_mount)",
			m.lvName(v.origin.Name), v.origin.Major, v.origin.Minor, m.cfg.RootMount, dev))
	}
	if v.origin.HasMergingSnapshot() {
		return fmt.Errorf("origin volume %s still has a snapshot merging into it: reboot (or wait for the merge) before the next update", m.lvName(v.origin.Name))
	}
	if v.hasSnap {
		if err := m.dropStale(ctx, v.snap); err != nil {
			return err
		}
	}
	// The free space, read after a stale snapshot went back to it.
	vg, err := m.lvm.VG(ctx, m.cfg.VolumeGroup)
	if err != nil {
		return badInput(fmt.Errorf("volume group %s (config volume_group): %w", m.cfg.VolumeGroup, err))
	}
	p, err := m.preflight(ctx, rel, v, vg)
	if err != nil {
		return err
	}

	tags := []string{tagOurs, tagCOWPrefix + strconv.FormatInt(p.cost.Result.COWBytes, 10)}
	if err := m.lvm.CreateSnapshot(ctx, m.cfg.VolumeGroup, m.cfg.Origin, m.cfg.Snapshot, p.extents, rel.man.ChunkBytes, tags); err != nil {
		return fmt.Errorf("creating the snapshot: %w", err)
	}
	m.log.Printf("created snapshot %s of %s: %d bytes, chunk %d", m.lvName(m.cfg.Snapshot), m.cfg.Origin, p.size(), rel.man.ChunkBytes)
	defer func() {
		if err != nil {
			if rerr := m.lvm.Remove(context.WithoutCancel(ctx), m.cfg.VolumeGroup, m.cfg.Snapshot); rerr != nil {
				err = fmt.Errorf("%w; and removing the snapshot failed: %v", err, rerr)
			} else {
				m.log.Printf("removed snapshot %s", m.lvName(m.cfg.Snapshot))
			}
		}
	}()
	snap, ok, err := m.lvm.FindLV(ctx, m.cfg.VolumeGroup, m.cfg.Snapshot)
	if err == nil && (!ok || !m.ours(snap)) {
		err = fmt.Errorf("lvcreate made no snapshot %s of %s tagged %s", m.lvName(m.cfg.Snapshot), m.cfg.Origin, tagOurs)
	}
	if err != nil {
		return err
	}
	werr := m.writeAndVerify(ctx, rel, snap, withSizes, p.cost.Result.COWBytes)
	// Whatever happened, look at the store: an overflow shows first as a
	// failed write or flush, and the line must say it was an overflow.
	st, serr := m.status(ctx, snap)
	switch {
	case serr == nil && st.Invalid:
		err = fmt.Errorf("snapshot %s overflowed while the update was written (store of %d bytes)", m.lvName(snap.Name), p.size())
		if werr != nil {
			err = fmt.Errorf("%w: %v", err, werr)
		}
		return err
	case werr != nil:
		return werr
	case serr != nil:
		return serr
	}
	if err := m.lvm.AddTag(ctx, m.cfg.VolumeGroup, m.cfg.Snapshot, tagVerified); err != nil {
		return err
	}
	return nil
}

// dropStale removes a snapshot an earlier, unfinished update left behind,
// and refuses any other volume of that name.
func (m *module) dropStale(ctx context.Context, lv host.LV) error {
	name := m.lvName(lv.Name)
	switch {
	case !m.ours(lv):
		return badInput(fmt.Errorf("volume %s exists and is not a snapshot of %s made by lvm-um: refusing to touch it (config snapshot)", name, m.cfg.Origin))
	case lv.HasTag(tagInstalled) || lv.MergePending():
		return fmt.Errorf("an update is installed in %s and not yet committed or rolled back: commit or roll it back first", name)
	}
	err := m.removeUnused(ctx, lv)
	if errors.Is(err, errInUse) {
		return fmt.Errorf("a snapshot %s from an earlier update is still in use (reboot first)", name)
	}
	return err
}

// writeAndVerify reads the payload stream(s) into the snapshot and checks
// the result's sha256 against the artifact.
func (m *module) writeAndVerify(ctx context.Context, rel *release, snapLV host.LV, withSizes bool, predicted int64) error {
	man := rel.man
	f, err := os.OpenFile(snapLV.Path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening the snapshot: %w", err)
	}
	defer f.Close()
	s, ok, err := m.tree.nextStream(withSizes)
	if err != nil {
		return err
	}
	if !ok {
		return badInput(errors.New("the artifact has no payload file"))
	}
	if !rel.delta && s.Size >= 0 && s.Size != man.ImageBytes {
		return badInput(fmt.Errorf("payload %s is %d bytes, the image %d", s.Name, s.Size, man.ImageBytes))
	}
	model := blockmap.Model{WriteUnit: man.WriteUnitBytes, Chunk: man.ChunkBytes, ImageSize: man.ImageBytes}
	w, err := apply.New(f, model, 0)
	if err != nil {
		return badInput(err)
	}
	fifo, err := m.tree.openStream(s)
	if err != nil {
		return err
	}
	in := ctxReader{ctx, fifo}
	if rel.delta {
		err = applyDelta(w, in, rel)
	} else {
		err = applyFull(w, in, man.ImageBytes)
	}
	fifo.Close()
	if err != nil {
		return fmt.Errorf("payload %s: %w", s.Name, err)
	}
	res, err := w.Close()
	if err != nil {
		return err
	}
	if s, more, err := m.tree.nextStream(withSizes); err != nil {
		return err
	} else if more {
		return badInput(fmt.Errorf("the artifact has a second payload file %s; an lvm-um artifact has one", s.Name))
	}
	m.log.Printf("written: units=%d of %d (%d bytes each) chunks=%d cow=%d predicted=%d",
		res.UnitsChanged, res.Units, res.WriteUnit, res.ChunksWritten, res.COWBytes, predicted)
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flushing the snapshot: %w", err)
	}
	// Read back from the device, not from the page cache we just wrote.
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	sum, err := apply.Checksum(f, man.ImageBytes)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if sum != man.ImageSHA256 {
		return badInput(fmt.Errorf("the snapshot's sha256 is %x, the artifact's %s is %x: the payload does not build the release", sum, checksumKey, man.ImageSHA256))
	}
	m.log.Printf("verified: sha256 %x", sum)
	return nil
}

// applyFull streams a whole image into the writer; the stream must hold
// exactly size bytes.
func applyFull(w *apply.Writer, in io.Reader, size int64) error {
	if err := w.ReadFrom(0, size, in); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return badInput(fmt.Errorf("truncated: shorter than the image's %d bytes", size))
		}
		return err
	}
	var one [1]byte
	if n, _ := io.ReadFull(in, one[:]); n > 0 {
		return badInput(fmt.Errorf("longer than the image's %d bytes", size))
	}
	return nil
}

// applyDelta streams an Android sparse delta into the writer: RAW and
// FILL chunks land where the manifest says the release changes the
// image, DONT_CARE ranges keep what the device holds (the pre-flight made
// sure that is the base).
func applyDelta(w *apply.Writer, in io.Reader, rel *release) error {
	r, err := sparse.NewReader(in)
	if err != nil {
		return badInput(err)
	}
	bs := int64(r.Header().BlockSize)
	if got := r.Header().ImageBytes(); got != rel.man.ImageBytes {
		return badInput(fmt.Errorf("the delta is of a %d-byte image, the manifest's is %d", got, rel.man.ImageBytes))
	}
	for {
		c, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return badInput(err)
		}
		off, n := c.Block*bs, c.Blocks*bs
		switch c.Type {
		case sparse.DontCare:
			continue
		case sparse.Raw, sparse.Fill:
			if err := rel.man.CheckDeltaRange(off, n); err != nil {
				return badInput(err)
			}
		}
		if c.Type == sparse.Raw {
			err = w.ReadFrom(off, n, r)
		} else {
			err = w.Fill(off, n, c.Pattern)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, sparse.ErrInvalid) {
			return badInput(fmt.Errorf("chunk at block %d: %w", c.Block, err))
		}
		if err != nil {
			return err
		}
	}
}

// ctxReader stops a stream between reads once ctx is done (the client's
// SIGTERM on a timeout).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
