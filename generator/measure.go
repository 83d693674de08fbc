package generator

import (
	"context"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
	blockmeasure "github.com/lvm-um-gen/lvm-um-gen/blockmap/measure"
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

// measure compares the built image with the base in one streaming pass
// (blockmap/measure, hashing both on the way), reading the image only
// where the builder says it may differ and charging changed blocks to
// paths as it says. progress is as DiffImages'. With withManifest it also
// hashes the base chunk by chunk on the way and builds the base manifest.
func measure(ctx context.Context, basePath, imagePath string, g Geometry, res *BuildResult, progress func(int64), withManifest bool) (*measurement, error) {
	p, err := openPair(basePath, imagePath)
	if err != nil {
		return nil, err
	}
	defer p.close()
	sums := newSums()
	m := g.Model(p.size)
	if withManifest {
		if sums.chunks, err = blockmap.NewChunkHasher(m.Chunk); err != nil {
			return nil, err
		}
	}
	r, err := blockmeasure.Measure(ctx, p.old, p.new, p.size, m, blockmeasure.Wrote{Differs: res.Differs, Touched: res.Touched}, sums.options(progress))
	if err != nil {
		return nil, ctxOr(ctx, err)
	}
	lb, err := r.Facts.Bound(m)
	if err != nil {
		return nil, fmt.Errorf("lower bound: %w", err)
	}
	out := &measurement{model: m, diff: sums.diff(r.Result, r.Units), attribution: r.Attribution, bound: lb}
	if withManifest {
		changed, err := changedChunks(ctx, p.old, p.new, m, r.Units)
		if err != nil {
			return nil, ctxOr(ctx, err)
		}
		if out.manifest, err = newManifest(m, out.diff, sums.chunks.Sums(), changed); err != nil {
			return nil, err
		}
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
