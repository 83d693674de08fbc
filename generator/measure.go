package generator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
	blockmeasure "github.com/lvm-um-gen/lvm-um-gen/blockmap/measure"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
)

// measurement is the built image against the base: what writing it
// costs, why, and the least any placement of the release could cost.
type measurement struct {
	model       blockmap.Model
	diff        *Diff
	attribution *attrib.Report
	bound       bound.Bound
	// manifest is the base manifest the artifact carries (generate only).
	manifest *manifest.Manifest
}

// Measuring a release reads each image once from start to end, and only
// the blocks the build changed a second time, on both cores:
//
//   - the base is hashed (sha256, the lower bound's block hashes and, for
//     generate, the manifest's chunk hashes) by a goroutine started
//     before the build, so it runs on the other core while the sync works
//     on one (baseScan);
//   - once the build is done, the new image streams once through sha256
//     (and, for generate, into the full artifact's compressed payload
//     and the --image-out file) on one core, while the other checks the image's consistency, compares the two images
//     inside the ranges the build changed (blockmap/measure
//     .MeasureKnownBase), attributes the changed blocks and lists the
//     changed chunks.

// streamWindow is the read size of the streaming passes over the base and
// the new image.
const streamWindow = 1 << 20

// baseScan is the base's hashing pass, running in its own goroutine.
type baseScan struct {
	done   chan struct{}
	cancel context.CancelFunc
	sum    string
	hashes *bound.BaseHashes
	chunks []blockmap.ChunkHash // nil unless asked for
	err    error
}

// startBaseScan starts hashing the base image at path: the bound's block
// hashes, its sha256 when sum, chunk by chunk of chunk bytes too when
// chunk > 0.
func startBaseScan(ctx context.Context, path string, chunk int64, sum bool) *baseScan {
	ctx, cancel := context.WithCancel(ctx)
	s := &baseScan{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		s.err = s.run(ctx, path, chunk, sum)
	}()
	return s
}

// wait returns once the scan is done, with its error.
func (s *baseScan) wait() error {
	<-s.done
	return s.err
}

// stop cancels the scan if it still runs and waits for it to end.
func (s *baseScan) stop() {
	s.cancel()
	<-s.done
}

func (s *baseScan) run(ctx context.Context, path string, chunk int64, sum bool) error {
	f, err := openSized(path)
	if err != nil {
		return err
	}
	defer f.Close()
	l, err := disk.ReadLayout(f)
	if err != nil {
		return fmt.Errorf("base: %w", err)
	}
	bs, err := bound.NewBaseScan(int64(l.BlockSize))
	if err != nil {
		return err
	}
	var chunks *blockmap.ChunkHasher
	if chunk > 0 {
		if chunks, err = blockmap.NewChunkHasher(chunk); err != nil {
			return err
		}
	}
	var h hash.Hash
	if sum {
		h = sha256.New()
	}
	// The base's holes are not read: the bound takes them as zero blocks,
	// and only the checksums need their bytes.
	window := func(b []byte) error {
		if h != nil {
			h.Write(b)
		}
		bs.Window(b)
		if chunks != nil {
			chunks.Write(b)
		}
		return nil
	}
	var z []byte // zeros for the checksums
	zeros := func(n int64) error {
		bs.Zeros(n)
		if h == nil && chunks == nil {
			return nil
		}
		if z == nil {
			z = make([]byte, streamWindow)
		}
		for n > 0 {
			k := min(n, int64(len(z)))
			if h != nil {
				h.Write(z[:k])
			}
			if chunks != nil {
				chunks.Write(z[:k])
			}
			n -= k
		}
		return nil
	}
	err = streamSparse(ctx, f.File, f.size, window, zeros)
	if err != nil {
		return fmt.Errorf("read base: %w", err)
	}
	if s.hashes, err = bs.Finish(); err != nil {
		return err
	}
	if chunks != nil {
		s.chunks = chunks.Sums()
	}
	if h != nil {
		s.sum = hex.EncodeToString(h.Sum(nil))
	}
	return nil
}

// stream reads size bytes of r in order, in windows of streamWindow,
// handing each to fn; it stops with ctx's error when ctx is cancelled.
func stream(ctx context.Context, r io.ReaderAt, size int64, fn func([]byte) error) error {
	buf := make([]byte, min(streamWindow, max(size, 1)))
	for pos := int64(0); pos < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), size-pos)
		if k, err := r.ReadAt(buf[:n], pos); int64(k) != n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("at byte %d: %w", pos, err)
		}
		if err := fn(buf[:n]); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// imageFile is where the new image is written while it streams, when a
// file of it is kept (--image-out); sync says whether it must be durable
// before it is published.
type imageFile struct {
	path string
	sync bool
}

// imageSinks are what the new image is written to while it streams
// (generate only): a file of it, and the artifact's compressed payload,
// started by payload once the image's size is known. Either may be nil.
type imageSinks struct {
	file    *imageFile
	payload func(size int64) (*payloadWriter, error)
}

// streamImage streams img through sha256, and into sinks: the image file
// (written as a temporary file next to it, renamed when whole) and the
// compressed payload, which it finishes with the sum and returns. Each
// window is hashed on this goroutine while each sink takes it on its own,
// so the three take the longest of their times, not the sum. progress,
// if non-nil, gets the bytes of each window. On error nothing is left.
func streamImage(ctx context.Context, img Image, sinks *imageSinks, progress func(int64)) (string, *payloadWriter, error) {
	var f *os.File
	var payload *payloadWriter
	if sinks != nil && sinks.file != nil {
		var err error
		dir, name := filepath.Split(sinks.file.path)
		if f, err = os.CreateTemp(dir, "."+name+".tmp-*"); err != nil {
			return "", nil, err
		}
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
	}
	if sinks != nil && sinks.payload != nil {
		var err error
		if payload, err = sinks.payload(img.Size()); err != nil {
			return "", nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			payload.remove()
		}
	}()
	var writers []io.Writer
	if f != nil {
		writers = append(writers, f)
	}
	if payload != nil {
		writers = append(writers, payload)
	}
	werr := make(chan error, len(writers))
	h := sha256.New()
	err := stream(ctx, img, img.Size(), func(b []byte) error {
		for _, w := range writers {
			go func() {
				_, err := w.Write(b)
				werr <- err
			}()
		}
		h.Write(b)
		var err error
		for range writers {
			if e := <-werr; err == nil && e != nil {
				err = fmt.Errorf("write image: %w", e)
			}
		}
		if err != nil {
			return err
		}
		if progress != nil {
			progress(int64(len(b)))
		}
		return nil
	})
	if err == nil && f != nil {
		err = finishImage(f, sinks.file)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err == nil && payload != nil {
		err = payload.finish(sum)
	}
	if err != nil {
		return "", nil, err
	}
	ok = true
	return sum, payload, nil
}

// finishImage makes the image file f whole under out's name.
func finishImage(f *os.File, out *imageFile) error {
	err := f.Chmod(outputMode)
	if err == nil && out.sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), out.path)
	}
	if err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	return nil
}

// measure compares the built image with the base at basePath, reading the
// new image in full once (streamImage, into sinks when not nil) and both
// only where the builder says they may differ, and charging changed
// blocks to paths as it says. scan is the base's hashing pass, started
// with chunk hashes when withManifest. It also checks the new image's
// consistency (checkBuilt). Without sums and sinks, the new image is not
// streamed at all (its checksum stays empty). progress is as
// streamImage's. The compressed payload, when sinks asked for one, is
// returned finished; the caller removes it.
func measure(ctx context.Context, basePath string, res *BuildResult, g Geometry, scan *baseScan, sinks *imageSinks, sums bool, progress func(int64), withManifest bool) (*measurement, *payloadWriter, error) {
	img := res.Image
	base, err := openSized(basePath)
	if err != nil {
		return nil, nil, err
	}
	defer base.Close()
	if base.size != img.Size() {
		return nil, nil, fmt.Errorf("%w: %s is %d bytes, the new image %d bytes", ErrSizeMismatch, basePath, base.size, img.Size())
	}
	m := g.Model(base.size)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type sum struct {
		hex     string
		payload *payloadWriter
		err     error
	}
	newSum := make(chan sum, 1)
	if sums || sinks != nil {
		go func() {
			s, p, err := streamImage(sctx, img, sinks, progress)
			newSum <- sum{s, p, err}
		}()
	} else {
		newSum <- sum{}
	}
	meas, err := measureKnown(ctx, base, res, m, scan, withManifest)
	if err != nil {
		cancel()
		(<-newSum).payload.remove()
		return nil, nil, err
	}
	s := <-newSum
	if s.err != nil {
		return nil, nil, ctxOr(ctx, fmt.Errorf("read new image: %w", s.err))
	}
	meas.diff.NewSHA256 = s.hex
	if withManifest {
		if meas.manifest, err = newManifest(m, meas.diff, scan.chunks, meas.manifest.Changed); err != nil {
			s.payload.remove()
			return nil, nil, err
		}
	}
	return meas, s.payload, nil
}

// measureKnown is what measure does beside the image's stream: check the
// image, wait for the base's hashes, and measure the changed ranges. The
// manifest it returns holds only the changed chunks, until the new
// image's checksum is known. The check runs on the other core while the
// rest measures (estimate streams nothing, so one would idle); its
// verdict comes first.
func measureKnown(ctx context.Context, base *sizedFile, res *BuildResult, m blockmap.Model, scan *baseScan, withManifest bool) (*measurement, error) {
	checked := make(chan error, 1)
	go func() { checked <- checkBuilt(res.Image) }()
	out, err := measureChanged(ctx, base, res, m, scan, withManifest)
	if cerr := <-checked; cerr != nil {
		return nil, cerr
	}
	return out, err
}

// measureChanged is measureKnown without the image's check.
func measureChanged(ctx context.Context, base *sizedFile, res *BuildResult, m blockmap.Model, scan *baseScan, withManifest bool) (*measurement, error) {
	if err := scan.wait(); err != nil {
		return nil, ctxOr(ctx, err)
	}
	differs := res.Differs
	if differs == nil && base.size > 0 { // unknown: compare everything
		differs = []written.Range{{Off: 0, Len: base.size}}
	}
	r, err := blockmeasure.MeasureKnownBase(ctx, base, res.Image, m, blockmeasure.Wrote{Differs: differs, Touched: res.Touched}, scan.hashes)
	if err != nil {
		return nil, ctxOr(ctx, err)
	}
	lb, err := r.Facts.Bound(m)
	if err != nil {
		return nil, fmt.Errorf("lower bound: %w", err)
	}
	out := &measurement{model: m, diff: &Diff{Result: r.Result, Changed: r.Units, OldSHA256: scan.sum}, attribution: r.Attribution, bound: lb}
	if withManifest {
		changed, err := changedChunks(ctx, base, res.Image, m, r.Units)
		if err != nil {
			return nil, ctxOr(ctx, err)
		}
		out.manifest = &manifest.Manifest{Changed: changed}
	}
	return out, nil
}

// mapUnits are the changed units as the map draws them: attribution's,
// only those the diff found changed (with W smaller than a block, a
// changed block's other units may be equal).
func (m *measurement) mapUnits() []attrib.UnitInfo {
	var out []attrib.UnitInfo
	changed := m.diff.Changed
	for _, u := range m.attribution.Units {
		for len(changed) > 0 && changed[0] < u.Unit {
			changed = changed[1:]
		}
		if len(changed) > 0 && changed[0] == u.Unit {
			out = append(out, u)
		}
	}
	return out
}
