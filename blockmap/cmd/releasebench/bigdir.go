package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
)

// The big-directory case (issue 14, item 7): a release that adds one
// directory of cfg.BigDirEntries empty files to a small base, timed like
// every case (estimate against mkfs.ext4 -d of the same tree), and the
// generated image checked: e2fsck -fn clean and the directory an htree.
const (
	bigDirPath      = "usr/share/bigdir"
	bigDirBlockSize = 4096
	bigDirImageMiB  = 256
	bigDirBaseScale = 0.05 // the base tree: a few hundred files
	// targetBigDirVsMkfs is issue 14's target for this case.
	targetBigDirVsMkfs = 1.5
)

// BigDir is what the big-directory case found besides its timing.
type BigDir struct {
	Entries int
	Indexed bool   // debugfs shows EXT4_INDEX_FL and an htree root
	Fsck    string // "" when e2fsck -fn accepted the image, else why not
}

func bigDirCase(cfg Config) (*Case, error) {
	base, _, err := releasegen.Pair(releasegen.Config{Seed: cfg.Seed, Scale: bigDirBaseScale}, "noop")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.Work, "bigdir")
	defer os.RemoveAll(dir)
	baseDir, nextDir := filepath.Join(dir, "base"), filepath.Join(dir, "next")
	cfg.logf("bigdir: writing trees (%d paths, then %d more in /%s)", len(base.Files), cfg.BigDirEntries, bigDirPath)
	if err := base.Write(baseDir); err != nil {
		return nil, err
	}
	if err := base.Write(nextDir); err != nil {
		return nil, err
	}
	big := filepath.Join(nextDir, bigDirPath)
	if err := os.MkdirAll(big, 0o755); err != nil {
		return nil, err
	}
	for i := 0; i < cfg.BigDirEntries; i++ {
		f, err := os.Create(filepath.Join(big, fmt.Sprintf("entry-%06d.conf", i)))
		if err != nil {
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	baseImg := filepath.Join(dir, "base.img")
	if err := buildImage(bigDirBlockSize, baseDir, baseImg, bigDirImageMiB); err != nil {
		return nil, err
	}
	c := &Case{
		Label:     fmt.Sprintf("bigdir: a new %d-entry directory, %d MiB image, %d-byte blocks", cfg.BigDirEntries, bigDirImageMiB, bigDirBlockSize),
		Pair:      "bigdir",
		BlockSize: bigDirBlockSize,
		Artifacts: Artifacts{Skip: "not run for the big-directory case"},
		BigDir:    &BigDir{Entries: cfg.BigDirEntries},
	}
	cfg.logf("bigdir: timing")
	syscall.Sync()
	// Timed once: mkfs.ext4 -d alone takes minutes on this tree (it adds
	// each name to a linear directory, scanning it).
	once := cfg
	once.Runs = 1
	c.Timing = timeCase(once, bigDirBlockSize, baseImg, nextDir, dir, bigDirImageMiB)
	if cfg.Bin == "" {
		return c, nil
	}
	img := filepath.Join(dir, "release.img")
	if _, err := run([]string{"SOURCE_DATE_EPOCH=" + fmt.Sprint(epoch)}, cfg.Bin, []string{"generate", "--base", baseImg,
		"--rootfs", nextDir, "--snapshot-size", "1GiB", "-n", "bench", "-t", "bench",
		"-o", filepath.Join(dir, "release.mender"), "--image-out", img, "--quiet"}); err != nil {
		return nil, err
	}
	if err := fsckClean(img); err != nil {
		c.BigDir.Fsck = firstLine(err.Error())
	}
	c.BigDir.Indexed, err = indexedDir(img, "/"+bigDirPath)
	return c, err
}

var flagsLine = regexp.MustCompile(`Flags: 0x([0-9a-f]+)`)

// indexedDir asks debugfs whether path has EXT4_INDEX_FL (0x1000) and a
// dumpable htree root.
func indexedDir(img, path string) (bool, error) {
	_, st, err := runOut(nil, "debugfs", []string{"-R", "stat " + path, img})
	if err != nil {
		return false, err
	}
	m := flagsLine.FindSubmatch(st)
	if m == nil {
		return false, fmt.Errorf("debugfs stat %s: no flags in %q", path, firstLine(string(st)))
	}
	fl, _ := strconv.ParseUint(string(m[1]), 16, 32)
	if fl&0x1000 == 0 {
		return false, nil
	}
	_, dump, err := runOut(nil, "debugfs", []string{"-R", "htree " + path, img})
	return err == nil && regexp.MustCompile(`Root node dump`).Match(dump), err
}
