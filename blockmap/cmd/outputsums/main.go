// Command outputsums prints the sha256 of every output the engine and the
// CLI make for the release benchmark's pairs (blockmap/releasegen: patch
// and no-op, 1 KiB and 4 KiB blocks) and for the demo, one "name sha256"
// line each, sorted. Two builds that print the same lines make the same
// bytes: run it at two commits and diff the outputs to prove a change
// alters no output (or exactly the ones it means to).
//
//	go run -tags nopkcs11 ./blockmap/cmd/outputsums -bin bin/lvm-um-gen -work DIR [-scale 1] [-image-mib 450]
//
// For each pair and block size it syncs the base image to the next tree
// with the library (ext4sync.SyncImage) under the default and the
// cost-aware placement (W = 1 MiB and 4 KiB), and runs `lvm-um-gen
// generate` (W = 1 MiB and 4 KiB: artifact, image, report, map) and
// `estimate --json`. For the patch pair it also hands the next tree to
// generate as a tar archive and as an ext4 image built by mkfs at another
// time, the three kinds of rootfs the CLI reads. Then it runs the demo's
// generate (testdata/demo). The library's per-path block lists and file
// counts are hashed too.
//
// The trees and base images depend only on releasegen and e2fsprogs; they
// are built once under -work/fixtures and reused by later runs, so two
// builds are compared on the same inputs. e2fsprogs and tar must be
// installed.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/placement"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
)

// Fixed inputs, so every run and every build sees the same bytes.
const (
	epoch     = 1700000000
	baseTime  = "1700000000" // E2FSPROGS_FAKE_TIME of the base images
	nextTime  = "1700086400" // ... of the next tree's image: a day later, as a later build
	imageUUID = "4c564d55-6d67-656e-2d6f-757473756d01"
	hashSeed  = "4c564d55-6d67-656e-2d6f-757473756d02"
	chunk     = 4 << 10
)

var (
	writeUnits = []int64{1 << 20, 4 << 10}
	blockSizes = []int{1024, 4096}
	kinds      = []string{"patch", "noop"}
)

type config struct {
	bin, work, demo string
	scale           float64
	imageMiB        int
	seed            uint64
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "bin/lvm-um-gen", "the lvm-um-gen binary")
	flag.StringVar(&c.work, "work", "", "scratch directory; fixtures are kept in it for later runs (required)")
	flag.StringVar(&c.demo, "demo", "testdata/demo", "directory of the demo's v1.ext4.gz and v2.ext4.gz")
	flag.Float64Var(&c.scale, "scale", 1, "file-count scale of the trees (1 = the benchmark's)")
	flag.IntVar(&c.imageMiB, "image-mib", 450, "size of the images in MiB")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the release pairs")
	flag.Parse()
	if c.work == "" {
		fmt.Fprintln(os.Stderr, "outputsums: -work is required")
		os.Exit(2)
	}
	sums, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "outputsums:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(n, sums[n])
	}
}

func run(c config) (map[string]string, error) {
	sums := make(map[string]string)
	fix := filepath.Join(c.work, "fixtures", fmt.Sprintf("seed%d-scale%g-%dMiB", c.seed, c.scale, c.imageMiB))
	out := filepath.Join(c.work, "out")
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	for _, kind := range kinds {
		if err := fixtures(c, fix, kind); err != nil {
			return nil, err
		}
		for _, bs := range blockSizes {
			if err := oneCase(c, fix, out, kind, bs, sums); err != nil {
				return nil, fmt.Errorf("%s/%d: %w", kind, bs, err)
			}
		}
	}
	if err := demo(c, out, sums); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return sums, nil
}

// fixtures writes the pair's trees, base images, tar and next images once.
func fixtures(c config, fix, kind string) error {
	dir := filepath.Join(fix, kind)
	done := filepath.Join(dir, ".done")
	if _, err := os.Stat(done); err == nil {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	base, next, err := releasegen.Pair(releasegen.Config{Seed: c.seed, Scale: c.scale}, kind)
	if err != nil {
		return err
	}
	if err := base.Write(filepath.Join(dir, "base")); err != nil {
		return err
	}
	if err := next.Write(filepath.Join(dir, "next")); err != nil {
		return err
	}
	for _, bs := range blockSizes {
		if err := image(bs, filepath.Join(dir, "base"), filepath.Join(dir, fmt.Sprintf("base-%d.img", bs)), c.imageMiB, baseTime); err != nil {
			return err
		}
		if kind == "patch" {
			if err := image(bs, filepath.Join(dir, "next"), filepath.Join(dir, fmt.Sprintf("next-%d.img", bs)), c.imageMiB, nextTime); err != nil {
				return err
			}
		}
	}
	if kind == "patch" {
		if err := cmd(nil, "tar", "--sort=name", "--format=pax", "--numeric-owner", "-C", filepath.Join(dir, "next"), "-cf", filepath.Join(dir, "next.tar"), "."); err != nil {
			return err
		}
	}
	return os.WriteFile(done, nil, 0o644)
}

// image builds a Yocto-like image of dir: mkfs.ext4 -d, then fsck -pfD.
func image(bs int, dir, img string, sizeMiB int, fakeTime string) error {
	env := []string{"E2FSPROGS_FAKE_TIME=" + fakeTime}
	if err := cmd(env, "mkfs.ext4", "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file",
		"-b", strconv.Itoa(bs), "-U", imageUUID, "-E", "hash_seed="+hashSeed,
		"-d", dir, img, strconv.Itoa(sizeMiB)+"M"); err != nil {
		return err
	}
	err := cmd(env, "fsck.ext4", "-pfD", img)
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return nil // directories optimised
	}
	return err
}

func oneCase(c config, fix, out, kind string, bs int, sums map[string]string) error {
	dir := filepath.Join(fix, kind)
	base := filepath.Join(dir, fmt.Sprintf("base-%d.img", bs))
	next := filepath.Join(dir, "next")
	name := fmt.Sprintf("%s/%d", kind, bs)
	fi, err := os.Stat(base)
	if err != nil {
		return err
	}
	// The library, default placement then cost-aware for each W.
	img := filepath.Join(out, "lib.img")
	if err := librarySync(base, next, img, nil, name+"/lib-default", sums); err != nil {
		return err
	}
	for _, w := range writeUnits {
		m := blockmap.Model{WriteUnit: w, Chunk: chunk, ImageSize: fi.Size()}
		if err := librarySync(base, next, img, &m, fmt.Sprintf("%s/lib-costaware-W%d", name, w), sums); err != nil {
			return err
		}
	}
	// The CLI.
	rootfs := map[string]string{"dir": next}
	if kind == "patch" {
		rootfs["tar"] = filepath.Join(dir, "next.tar")
		rootfs["image"] = filepath.Join(dir, fmt.Sprintf("next-%d.img", bs))
	}
	for src, path := range rootfs {
		for _, w := range writeUnits {
			if src != "dir" && w != writeUnits[0] {
				continue
			}
			if err := generate(c, base, path, out, w, fmt.Sprintf("%s/cli-%s-W%d", name, src, w), "none", sums); err != nil {
				return err
			}
		}
	}
	return estimate(c, base, next, out, name+"/cli-estimate", sums)
}

// librarySync syncs with the library and records the image, the counts
// and the per-path blocks.
func librarySync(base, next, img string, m *blockmap.Model, name string, sums map[string]string) error {
	defer os.Remove(img)
	src, err := dirsource.Read(next, dirsource.Options{})
	if err != nil {
		return err
	}
	e := int64(epoch)
	opts := ext4sync.Options{SourceDateEpoch: &e}
	if m != nil {
		opts.Placement = placement.New(*m, nil)
	}
	res, err := ext4sync.SyncImage(context.Background(), base, src, img, opts)
	if err != nil {
		return err
	}
	if sums[name+"/image"], err = fileSum(img); err != nil {
		return err
	}
	h := sha256.New()
	fmt.Fprintf(h, "added %d changed %d removed %d unchanged %d\n", res.Added, res.Changed, res.Removed, res.Unchanged)
	for _, t := range res.Touched {
		fmt.Fprintf(h, "%s %d %v\n", t.Path, t.Ino, t.Blocks)
	}
	sums[name+"/result"] = hex.EncodeToString(h.Sum(nil))
	return nil
}

// generate runs `lvm-um-gen generate` in out with relative paths (the
// report names them) and records every output.
func generate(c config, base, rootfs, out string, w int64, name, compression string, sums map[string]string) error {
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return err
	}
	files := []string{"release.mender", "release.img", "release.json", "release.svg"}
	defer func() {
		for _, f := range files {
			os.Remove(filepath.Join(out, f))
		}
	}()
	args := []string{"generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "1GiB",
		"--write-unit", strconv.FormatInt(w, 10), "-n", "release", "-t", "device", "--compression", compression,
		"-o", files[0], "--image-out", files[1], "--report", files[2], "--map", files[3], "--quiet"}
	if err := cmdIn(out, []string{"SOURCE_DATE_EPOCH=" + strconv.Itoa(epoch)}, bin, args...); err != nil {
		return err
	}
	for _, f := range files {
		if sums[name+"/"+f], err = fileSum(filepath.Join(out, f)); err != nil {
			return err
		}
	}
	return nil
}

// estimate records `lvm-um-gen estimate --json`'s output.
func estimate(c config, base, rootfs, out, name string, sums map[string]string) error {
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return err
	}
	cm := exec.Command(bin, "estimate", "--base", base, "--rootfs", rootfs, "--json", "--quiet", "--top", "50")
	cm.Dir = out
	cm.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.Itoa(epoch))
	cm.Stderr = os.Stderr
	b, err := cm.Output()
	if err != nil {
		return fmt.Errorf("estimate: %w", err)
	}
	s := sha256.Sum256(b)
	sums[name+"/stdout"] = hex.EncodeToString(s[:])
	return nil
}

// demo runs the demo's generate (gzip, as make demo does) and its refusal.
func demo(c config, out string, sums map[string]string) error {
	for _, v := range []string{"v1", "v2"} {
		if err := cmd(nil, "sh", "-c", fmt.Sprintf("gunzip -c %s > %s", filepath.Join(c.demo, v+".ext4.gz"), filepath.Join(out, v+".ext4"))); err != nil {
			return err
		}
	}
	defer os.Remove(filepath.Join(out, "v1.ext4"))
	defer os.Remove(filepath.Join(out, "v2.ext4"))
	for _, w := range []int64{1 << 20, 4 << 10} {
		if err := generate(c, filepath.Join(out, "v1.ext4"), filepath.Join(out, "v2.ext4"), out, w, fmt.Sprintf("demo/cli-W%d", w), "gzip", sums); err != nil {
			return err
		}
	}
	return nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func cmd(env []string, name string, args ...string) error { return cmdIn("", env, name, args...) }

func cmdIn(dir string, env []string, name string, args ...string) error {
	cm := exec.Command(name, args...)
	cm.Dir = dir
	cm.Env = append(os.Environ(), env...)
	cm.Stdout, cm.Stderr = os.Stderr, os.Stderr
	if err := cm.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); ok && name != "fsck.ext4" {
			return fmt.Errorf("%s %v: %w", name, args, err)
		}
		return err
	}
	return nil
}
