package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets of issue 4.
const (
	targetVsRsync = 0.55 // predicted COW, W = 1 MiB, patch pair, vs rsync --inplace
	targetVsBound = 1.2  // same, vs the lower bound
)

// Targets of issue 11, for every case (the scale case included).
const (
	targetEstimateVsMkfs = 0.5 // estimate wall time vs mkfs.ext4 -d
	targetGenerateVsFlow = 1.0 // generate vs mkfs.ext4 -d + mender-artifact write, same compression
	targetArtifactVsMA   = 1.0 // artifact bytes vs mender-artifact's of the same image
	targetPeakMiB        = 256 // peak RSS of estimate and generate
)

const kib, mib = 1 << 10, 1 << 20

// table is a header and rows of cells, rendered as aligned text or Markdown.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, markdown bool) error {
	if markdown {
		var b strings.Builder
		line := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
		line(t.head)
		sep := make([]string, len(t.head))
		for i := range sep {
			sep[i] = "---"
		}
		line(sep)
		for _, r := range t.rows {
			line(r)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.head, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// sizeName prints a byte count in KiB or MiB, as the table's headers do.
func sizeName(n int64) string {
	if n >= mib && n%mib == 0 {
		return fmt.Sprintf("%dMiB", n/mib)
	}
	if n%kib == 0 {
		return fmt.Sprintf("%dKiB", n/kib)
	}
	return fmt.Sprintf("%dB", n)
}

// mibs prints bytes in MiB with two decimals.
func mibs(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/mib) }

// Write prints the report: one cost table per case, the timing table, the
// targets and the lower bound's definition.
func (r *Report) Write(w io.Writer, markdown bool) error {
	h := func(s string) string {
		if markdown {
			return "### " + s + "\n\n"
		}
		return s + "\n"
	}
	cfg := r.Config
	fmt.Fprintf(w, "%sseed %d, scale %g, %d MiB images, C = %s, mkfs -i 4096 -O metadata_csum_seed,orphan_file + fsck -pfD\n\n",
		h("releasebench"), cfg.Seed, cfg.Scale, cfg.ImageMiB, sizeName(chunkSize))
	for _, c := range r.Cases {
		if len(c.Rows) == 0 {
			continue // the scale case is timed only
		}
		fmt.Fprintf(w, "%s", h(fmt.Sprintf("%s release, %d-byte blocks (new tree %s of file data)", c.Pair, c.BlockSize, mibs(c.NewBytes))))
		t := &table{head: []string{"method"}}
		for _, u := range writeUnits {
			t.head = append(t.head, "W="+sizeName(u)+" units", "W="+sizeName(u)+" COW")
		}
		for _, row := range c.Rows {
			cells := []string{row.Method}
			for i := range writeUnits {
				switch {
				case row.Skip != "":
					cells = append(cells, row.Skip, "")
				default:
					cells = append(cells, fmt.Sprint(row.Cells[i].Units), mibs(row.Cells[i].COW))
				}
			}
			t.add(cells...)
		}
		if err := t.write(w, markdown); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, h("time and memory: lvm-um-gen vs mkfs.ext4 -d + mender-artifact write module-image of the same tree (gzip)"))
	if err := r.timingTable().write(w, markdown); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, h("artifacts: full (lvm-um) vs delta (lvm-um-delta), gzip, W = the chunk; manifest = the encoded base manifest"))
	if err := r.artifactTable().write(w, markdown); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, h("targets"))
	if err := r.targetTable().write(w, markdown); err != nil {
		return err
	}
	fmt.Fprintln(w)
	note := lowerBoundNote + "\nCOW is bytes of the snapshot store after the write (cow-model.md), including\n" +
		"its fixed 2-chunk header: a release that changes no unit shows 0.01 MiB (8 KiB)."
	if markdown {
		note = "```\n" + note + "\n```"
	}
	_, err := fmt.Fprintln(w, note)
	return err
}

func (r *Report) timingTable() *table {
	t := &table{head: []string{"case", "mkfs.ext4 -d", "mender-artifact", "estimate (peak RSS)", "estimate / mkfs",
		"generate (peak RSS)", "generate / (mkfs + mender-artifact)", "artifact / mender-artifact's (same image)", "estimate's W=1MiB prediction"}}
	for _, c := range r.Cases {
		name := c.name()
		tm := c.Timing
		if tm.Skip != "" {
			t.add(name, tm.Skip, "", "", "", "", "", "", "")
			continue
		}
		ma, flow, size := tm.MenderSkip, "n/a", "n/a"
		if ma == "" {
			ma = wall(tm.MenderArtifact.Wall)
			flow = fmt.Sprintf("%.2fx", tm.GenerateVsFlow)
			size = fmt.Sprintf("%.4fx (%s / %s)", ratio(tm.ArtifactBytes, tm.MenderBytes), mibs(tm.ArtifactBytes), mibs(tm.MenderBytes))
		}
		t.add(name, wall(tm.Mkfs.Wall), ma,
			fmt.Sprintf("%s (%s)", wall(tm.Estimate.Wall), peakMiB(tm.Estimate)), fmt.Sprintf("%.2fx", tm.EstimateVsMkfs),
			fmt.Sprintf("%s (%s)", wall(tm.Generate.Wall), peakMiB(tm.Generate)), flow, size, c.predictionNote())
	}
	return t
}

func wall(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }

func peakMiB(u usage) string { return fmt.Sprintf("%.0f MiB", float64(u.PeakKiB)/kib) }

// name is how the tables call a case.
func (c *Case) name() string {
	if c.Label != "" {
		return c.Label
	}
	return fmt.Sprintf("%s, %d-byte blocks", c.Pair, c.BlockSize)
}

// predictionNote says what estimate predicted and which library row it
// equals (the CLI's placement is the integrator's choice).
func (c *Case) predictionNote() string {
	p := c.Timing.Predicted
	if p == nil {
		return "none printed"
	}
	s := fmt.Sprintf("%d units, %s", p.Units, mibs(p.COW))
	var same []string
	for _, m := range []string{methodDefault, methodCostAware} {
		if row, ok := c.row(m); ok && row.Cells[0] == *p {
			same = append(same, strings.TrimPrefix(m, "lvm-um-gen, "))
		}
	}
	if len(same) == 0 {
		return s + " (matches no row above)"
	}
	return s + " (= " + strings.Join(same, ", ") + ")"
}

// row returns case c's row for method, if it ran.
func (c *Case) row(method string) (Row, bool) {
	for _, r := range c.Rows {
		if r.Method == method && r.Skip == "" {
			return r, true
		}
	}
	return Row{}, false
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// verdict is PASS or MISS for ok.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// timingTargets adds issue 11's targets for one case.
func (r *Report) timingTargets(t *table, c Case) {
	tm := c.Timing
	if tm.Skip != "" {
		return
	}
	name := c.name()
	target := targetEstimateVsMkfs
	if b := c.BigDir; b != nil {
		target = targetBigDirVsMkfs
		t.add("the new directory is an htree (debugfs)", name, fmt.Sprint(b.Indexed), verdict(b.Indexed))
		fsck := "clean"
		if b.Fsck != "" {
			fsck = b.Fsck
		}
		t.add("generate's image passes e2fsck -fn", name, fsck, verdict(b.Fsck == ""))
	}
	t.add(fmt.Sprintf("estimate wall <= %.1fx mkfs.ext4 -d", target), name, fmt.Sprintf("%.2fx", tm.EstimateVsMkfs), verdict(tm.EstimateVsMkfs <= target))
	if tm.MenderSkip != "" {
		t.add("generate wall <= mkfs + mender-artifact", name, tm.MenderSkip, "n/a")
	} else {
		t.add(fmt.Sprintf("generate wall <= %.1fx mkfs + mender-artifact", targetGenerateVsFlow), name, fmt.Sprintf("%.2fx", tm.GenerateVsFlow), verdict(tm.GenerateVsFlow <= targetGenerateVsFlow))
		q := ratio(tm.ArtifactBytes, tm.MenderBytes)
		t.add("artifact bytes <= mender-artifact's, same image and compression", name, fmt.Sprintf("%.4fx", q), verdict(q <= targetArtifactVsMA))
	}
	for _, u := range []struct {
		cmd string
		u   usage
	}{{"estimate", tm.Estimate}, {"generate", tm.Generate}} {
		peak := float64(u.u.PeakKiB) / kib
		t.add(fmt.Sprintf("%s peak RSS <= %d MiB", u.cmd, targetPeakMiB), name, fmt.Sprintf("%.1f MiB", peak), verdict(peak <= targetPeakMiB))
	}
}

func (r *Report) targetTable() *table {
	t := &table{head: []string{"target", "case", "measured", "verdict"}}
	const large = 0 // index of W = 1 MiB in writeUnits
	for _, c := range r.Cases {
		name := c.name()
		for _, method := range []string{methodDefault, methodCostAware} {
			lvm, ok := c.row(method)
			if !ok {
				continue
			}
			short := strings.TrimPrefix(method, "lvm-um-gen, ")
			if c.Pair == "noop" {
				var units int64
				for _, cell := range lvm.Cells {
					units += cell.Units
				}
				t.add("no-op changes 0 units ("+short+")", name, fmt.Sprintf("%d units", units), verdict(units == 0))
				continue
			}
			cow := lvm.Cells[large].COW
			if rs, ok := c.row(methodRsync); ok {
				q := ratio(cow, rs.Cells[large].COW)
				t.add(fmt.Sprintf("COW W=1MiB <= %.2fx rsync (%s)", targetVsRsync, short), name, fmt.Sprintf("%.2fx", q), verdict(q <= targetVsRsync))
			} else {
				t.add(fmt.Sprintf("COW W=1MiB <= %.2fx rsync (%s)", targetVsRsync, short), name, "rsync skipped", "n/a")
			}
			if lb, ok := c.row(methodBound); ok {
				q := ratio(cow, lb.Cells[large].COW)
				t.add(fmt.Sprintf("COW W=1MiB <= %.1fx lower bound (%s)", targetVsBound, short), name, fmt.Sprintf("%.2fx", q), verdict(q <= targetVsBound))
			}
			if wf, ok := c.row(methodWhole); ok {
				q := ratio(cow, wf.Cells[large].COW)
				t.add(fmt.Sprintf("  for information: vs whole files packed (%s)", short), name, fmt.Sprintf("%.2fx", q), "info")
			}
		}
		r.artifactTargets(t, c)
		r.timingTargets(t, c)
	}
	return t
}
