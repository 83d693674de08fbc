package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/host"
)

// origin is the running rootfs volume, opened read-only. It has no
// method that writes: the module never writes its origin, and this type
// is the only way it opens it.
type origin struct{ f *os.File }

func openOrigin(path string) (origin, error) {
	f, err := os.Open(path) // O_RDONLY
	if err != nil {
		return origin{}, fmt.Errorf("origin volume: %w", err)
	}
	return origin{f: f}, nil
}

// Section returns the first n bytes of the volume as a reader.
func (o origin) Section(n int64) io.Reader { return io.NewSectionReader(o.f, 0, n) }

func (o origin) Close() error { return o.f.Close() }

// plan is the pre-flight's outcome: what the release costs on this
// device and the snapshot that holds it.
type plan struct {
	cost      blockmap.DeviceCost
	reserve   int64
	need      int64 // cost.Result.COWBytes + reserve
	available int64 // the volume group's free space, whole extents
	extents   int64 // the snapshot store to create
	extent    int64
}

// size is the snapshot store size in bytes.
func (p plan) size() int64 { return p.extents * p.extent }

// preflight measures the origin's drift from the base the release was
// built for, computes the exact COW this device will spend (the same
// blockmap code the generator predicts with), adds the reserve, and
// checks it against the volume group's free space. It changes nothing.
func (m *module) preflight(ctx context.Context, rel *release, v volumes, vg host.VG) (plan, error) {
	man := rel.man
	if man.ImageBytes > v.origin.Size {
		return plan{}, badInput(fmt.Errorf("the image is %d bytes, more than the %d of origin volume %s",
			man.ImageBytes, v.origin.Size, m.lvName(v.origin.Name)))
	}
	org, err := openOrigin(v.origin.Path)
	if err != nil {
		return plan{}, err
	}
	defer org.Close()
	hashes, n, err := blockmap.HashChunks(ctx, org.Section(man.ImageBytes), man.ChunkBytes, blockmap.HashOptions{})
	if err != nil {
		return plan{}, fmt.Errorf("hashing origin volume %s: %w", m.lvName(v.origin.Name), err)
	}
	if n != man.ImageBytes {
		return plan{}, fmt.Errorf("origin volume %s: read %d of its first %d bytes", m.lvName(v.origin.Name), n, man.ImageBytes)
	}
	cost, err := man.CostOn(hashes, 0)
	if err != nil {
		return plan{}, badInput(err)
	}
	p := plan{cost: cost, reserve: rel.reserve, extent: vg.ExtentSize, available: vg.Free()}
	p.need = cost.Result.COWBytes + rel.reserve
	m.log.Printf("preflight: cow=%d drift_cow=%d reserve=%d need=%d available=%d chunks=%d drift_chunks=%d release_cow=%d write_unit=%d chunk=%d",
		cost.Result.COWBytes, cost.DriftCOWBytes, p.reserve, p.need, p.available, cost.Result.ChunksWritten,
		cost.DriftedChunks, cost.Release.COWBytes, man.WriteUnitBytes, man.ChunkBytes)
	if cost.DriftedChunks > 0 {
		m.log.Printf("drift: the rootfs differs from the base in %d chunks (%d of them outside the release's changes), adding %d bytes of COW",
			cost.DriftedChunks, len(cost.DriftedUnchanged), cost.DriftCOWBytes)
	}
	if rel.delta && len(cost.DriftedUnchanged) > 0 {
		return plan{}, badInput(fmt.Errorf("delta refused: the rootfs differs from the base in %d chunks the delta does not write (%s); the full artifact (payload type %s) will install",
			len(cost.DriftedUnchanged), chunkList(cost.DriftedUnchanged, man.ChunkBytes), typeFull))
	}
	if p.need > p.available {
		return plan{}, noFit(fmt.Errorf("does not fit: needs %d bytes (COW %d + reserve %d), volume group %s has %d free; drift is %d bytes, %s of the need",
			p.need, cost.Result.COWBytes, p.reserve, vg.Name, p.available, cost.DriftCOWBytes, share(cost.DriftCOWBytes, p.need)))
	}
	p.extents = ceilDiv(p.need, p.extent)
	if size := m.cfg.SnapshotSize; size > 0 {
		ext := ceilDiv(size, p.extent)
		switch {
		case ext*p.extent > p.available:
			return plan{}, noFit(fmt.Errorf("does not fit: snapshot_size %d is more than the %d free in volume group %s", ext*p.extent, p.available, vg.Name))
		case ext >= p.extents:
			p.extents = ext
		case m.cfg.SnapshotSizeForce:
			m.log.Printf("warning: snapshot_size_force: a snapshot of %d bytes, less than the %d needed: it will overflow", ext*p.extent, p.need)
			p.extents = ext
		default:
			return plan{}, noFit(fmt.Errorf("does not fit: snapshot_size %d is less than the %d needed (COW %d + reserve %d; drift is %d bytes, %s of the need)",
				ext*p.extent, p.need, cost.Result.COWBytes, p.reserve, cost.DriftCOWBytes, share(cost.DriftCOWBytes, p.need)))
		}
	}
	return p, nil
}

// share renders part/whole as a percentage.
func share(part, whole int64) string {
	if whole <= 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

// chunkList names up to ten chunks with their byte offsets.
func chunkList(chunks []int64, chunk int64) string {
	var b strings.Builder
	for i, c := range chunks {
		if i == 10 {
			fmt.Fprintf(&b, ", and %d more", len(chunks)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "chunk %d at byte %d", c, c*chunk)
	}
	return b.String()
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
