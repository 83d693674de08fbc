package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Targets of issue 4.
const (
	targetVsRsync    = 0.55 // predicted COW, W = 1 MiB, patch pair, vs rsync --inplace
	targetVsBound    = 1.2  // same, vs the lower bound
	targetVsMkfsTime = 1.0  // estimate wall time vs mkfs.ext4 -d
	targetPeakMiB    = 256  // estimate peak RSS for a 450 MiB image
	targetImageMiB   = 450
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
	fmt.Fprint(w, h("time and memory: lvm-um-gen estimate vs mkfs.ext4 -d of the same tree"))
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
	t := &table{head: []string{"case", "estimate wall (median)", "estimate peak RSS", "mkfs.ext4 -d wall (median)", "ratio", "estimate's W=1MiB prediction"}}
	for _, c := range r.Cases {
		name := fmt.Sprintf("%s, %d-byte blocks", c.Pair, c.BlockSize)
		if c.Timing.Skip != "" {
			t.add(name, c.Timing.Skip, "", "", "", "")
			continue
		}
		t.add(name, c.Timing.Estimate.Wall.Round(1e6).String(), fmt.Sprintf("%.1f MiB", float64(c.Timing.Estimate.PeakKiB)/kib),
			c.Timing.Mkfs.Wall.Round(1e6).String(), fmt.Sprintf("%.2fx", ratio(int64(c.Timing.Estimate.Wall), int64(c.Timing.Mkfs.Wall))),
			c.predictionNote())
	}
	return t
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

func (r *Report) targetTable() *table {
	t := &table{head: []string{"target", "case", "measured", "verdict"}}
	const large = 0 // index of W = 1 MiB in writeUnits
	for _, c := range r.Cases {
		name := fmt.Sprintf("%s, %d-byte blocks", c.Pair, c.BlockSize)
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
		if c.Timing.Skip != "" {
			continue
		}
		q := ratio(int64(c.Timing.Estimate.Wall), int64(c.Timing.Mkfs.Wall))
		t.add(fmt.Sprintf("estimate wall <= %.1fx mkfs.ext4 -d", targetVsMkfsTime), name, fmt.Sprintf("%.2fx", q), verdict(q <= targetVsMkfsTime))
		peak := float64(c.Timing.Estimate.PeakKiB) / kib
		v := verdict(peak < targetPeakMiB)
		if r.Config.ImageMiB != targetImageMiB {
			v += fmt.Sprintf(" (%d MiB image, target is for %d)", r.Config.ImageMiB, targetImageMiB)
		}
		t.add(fmt.Sprintf("estimate peak RSS < %d MiB", targetPeakMiB), name, fmt.Sprintf("%.1f MiB", peak), v)
	}
	return t
}
