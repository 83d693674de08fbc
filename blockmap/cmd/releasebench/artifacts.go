package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Artifact is one artifact `lvm-um-gen generate` wrote, and what it cost.
type Artifact struct {
	Bytes         int64 // the .mender file
	HeaderBytes   int64 // header.tar.* inside it: the meta-data with the manifest, compressed
	PayloadBytes  int64 // data/0000.tar.* inside it: the payload, compressed
	ManifestBytes int64 // the encoded manifest in the meta-data (report manifest_bytes)
	RawPayload    int64 // the payload file before compression (report payload_bytes)
	Wall          time.Duration
}

// Artifacts compares the full and the delta artifact of one case, both
// written by the CLI with its defaults (gzip, W = the chunk).
type Artifacts struct {
	Full, Delta Artifact
	Skip        string
}

// generateReport is the part of generate's --report the bench reads.
type generateReport struct {
	ArtifactBytes int64 `json:"artifact_bytes"`
	PayloadBytes  int64 `json:"payload_bytes"`
	ManifestBytes int64 `json:"manifest_bytes"`
}

// artifactCase runs `generate` and `generate --delta` of the same release
// cfg.Runs times each, interleaved, and keeps the median wall times.
func artifactCase(cfg Config, baseImg, nextDir, work string) Artifacts {
	if cfg.Bin == "" {
		return Artifacts{Skip: "skipped: no -bin"}
	}
	var out Artifacts
	var walls [2][]time.Duration
	for run := 0; run < cfg.Runs; run++ {
		for i, delta := range []bool{false, true} {
			a, err := generateArtifact(cfg.Bin, baseImg, nextDir, work, delta)
			if err != nil {
				return Artifacts{Skip: "generate failed: " + firstLine(err.Error())}
			}
			walls[i] = append(walls[i], a.Wall)
			if delta {
				out.Delta = a
			} else {
				out.Full = a
			}
		}
	}
	out.Full.Wall, out.Delta.Wall = medianWall(walls[0]), medianWall(walls[1])
	return out
}

func medianWall(ws []time.Duration) time.Duration {
	s := slices.Clone(ws)
	slices.Sort(s)
	return s[len(s)/2]
}

// generateArtifact runs one generate and measures its artifact.
func generateArtifact(bin, baseImg, nextDir, work string, delta bool) (Artifact, error) {
	art, rep := filepath.Join(work, "bench.mender"), filepath.Join(work, "bench.json")
	defer os.Remove(art)
	defer os.Remove(rep)
	args := []string{"generate", "--base", baseImg, "--rootfs", nextDir, "--snapshot-size", "1GiB",
		"-n", "bench", "-t", "bench", "-o", art, "--report", rep, "--quiet"}
	if delta {
		args = append(args, "--delta")
	}
	u, err := run([]string{"SOURCE_DATE_EPOCH=" + fmt.Sprint(epoch)}, bin, args)
	if err != nil {
		return Artifact{}, err
	}
	data, err := os.ReadFile(rep)
	if err != nil {
		return Artifact{}, err
	}
	var r generateReport
	if err := json.Unmarshal(data, &r); err != nil {
		return Artifact{}, fmt.Errorf("report: %w", err)
	}
	a := Artifact{Bytes: r.ArtifactBytes, ManifestBytes: r.ManifestBytes, RawPayload: r.PayloadBytes, Wall: u.Wall}
	if a.HeaderBytes, a.PayloadBytes, err = artifactParts(art); err != nil {
		return Artifact{}, err
	}
	return a, nil
}

// artifactParts reads the outer tar of a Mender artifact and returns the
// sizes of its compressed header and of its (one) compressed payload.
func artifactParts(path string) (header, payload int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("artifact %s: %w", path, err)
		}
		switch {
		case strings.HasPrefix(h.Name, "header.tar"):
			header = h.Size
		case strings.HasPrefix(h.Name, "data/"):
			payload += h.Size
		}
	}
	if header == 0 || payload == 0 {
		return 0, 0, fmt.Errorf("artifact %s: no header or payload", path)
	}
	return header, payload, nil
}

// Targets of issue 10 for the artifacts.
const (
	targetDeltaRatio     = 0.2     // delta artifact bytes / full artifact bytes, patch pair
	targetManifestPerGiB = 2 << 20 // manifest bytes as stored per GiB of image
)

func (r *Report) artifactTable() *table {
	t := &table{head: []string{"case", "full artifact", "delta artifact", "delta/full", "manifest (meta-data)", "header as stored",
		"generate wall", "generate --delta wall", "delta/full wall"}}
	for _, c := range r.Cases {
		name := c.name()
		a := c.Artifacts
		if a.Skip != "" {
			t.add(name, a.Skip, "", "", "", "", "", "", "")
			continue
		}
		t.add(name, mibs(a.Full.Bytes), mibs(a.Delta.Bytes), fmt.Sprintf("%.3fx", ratio(a.Delta.Bytes, a.Full.Bytes)),
			fmt.Sprintf("%.1f KiB", float64(a.Full.ManifestBytes)/kib), fmt.Sprintf("%.1f KiB", float64(a.Full.HeaderBytes)/kib),
			a.Full.Wall.Round(1e7).String(), a.Delta.Wall.Round(1e7).String(), fmt.Sprintf("%.2fx", ratio(int64(a.Delta.Wall), int64(a.Full.Wall))))
	}
	return t
}

// artifactTargets adds the artifact targets for case c to t.
func (r *Report) artifactTargets(t *table, c Case) {
	a := c.Artifacts
	if a.Skip != "" {
		return
	}
	name := c.name()
	if c.Pair == "patch" {
		q := ratio(a.Delta.Bytes, a.Full.Bytes)
		t.add(fmt.Sprintf("delta artifact <= %.1fx full (gzip)", targetDeltaRatio), name, fmt.Sprintf("%.3fx", q), verdict(q <= targetDeltaRatio))
	}
	q := ratio(int64(a.Delta.Wall), int64(a.Full.Wall))
	t.add("generate --delta wall < generate wall (so the delta costs less than compressing the image)", name, fmt.Sprintf("%.2fx", q), verdict(q < 1))
	budget := int64(r.Config.ImageMiB) * mib * targetManifestPerGiB / (1 << 30)
	worst := max(a.Full.ManifestBytes, a.Full.HeaderBytes, a.Delta.HeaderBytes)
	t.add("manifest <= 2 MiB per GiB of image (meta-data and stored header)", name,
		fmt.Sprintf("%.1f KiB of %.1f KiB", float64(worst)/kib, float64(budget)/kib), verdict(worst <= budget))
}
