package ext4test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Defaults that make fixture images reproducible.
const (
	DefaultUUID     = "6b1d7e3a-0c55-4e4f-9d1a-4c3b2a190807"
	DefaultHashSeed = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
	DefaultFakeTime = 1700000000 // E2FSPROGS_FAKE_TIME: 2023-11-14
	DefaultSize     = 64 << 20
	fakeTimeEnv     = "E2FSPROGS_FAKE_TIME"
)

// ImageOptions shape a fixture image. The zero value gives a 64 MiB,
// 4 KiB-block, 64bit image with fixed UUID, hash seed and time.
type ImageOptions struct {
	BlockSize int    // 1024 or 4096; 0 means 4096
	No64bit   bool   // -O ^64bit
	Size      int64  // bytes; 0 means DefaultSize
	UUID      string // -U; "" means DefaultUUID
	HashSeed  string // -E hash_seed=; "" means DefaultHashSeed
	FakeTime  int64  // E2FSPROGS_FAKE_TIME; 0 means DefaultFakeTime
	// Features are extra -O arguments (e.g. "^has_journal").
	Features []string
	// InodeSize is mkfs's -I (128 for inodes without the extra fields);
	// 0 leaves mkfs's default (256).
	InodeSize int
	// NormalizeTimes rewrites every inode's atime, ctime and crtime to its
	// mtime after mkfs (ctime otherwise comes from the source's st_ctime,
	// the one thing a test cannot set), so images are byte-reproducible.
	NormalizeTimes bool
}

// MkfsArgs returns the mkfs.ext4 arguments BuildImage uses, without the
// source, image and size.
func (o ImageOptions) MkfsArgs() []string {
	bs := o.BlockSize
	if bs == 0 {
		bs = 4096
	}
	uuid, seed := o.UUID, o.HashSeed
	if uuid == "" {
		uuid = DefaultUUID
	}
	if seed == "" {
		seed = DefaultHashSeed
	}
	args := []string{"-q", "-F", "-t", "ext4", "-i", "4096", "-O", "metadata_csum_seed,orphan_file",
		"-b", strconv.Itoa(bs), "-U", uuid, "-E", "hash_seed=" + seed}
	if o.No64bit {
		args = append(args, "-O", "^64bit")
	}
	for _, f := range o.Features {
		args = append(args, "-O", f)
	}
	if o.InodeSize != 0 {
		args = append(args, "-I", strconv.Itoa(o.InodeSize))
	}
	return args
}

// BuildImage makes an image from srcDir the way a Yocto build does
// (mkfs.ext4 -d, then fsck.ext4 -pfD to index directories) and returns
// its path in t.TempDir().
func BuildImage(t testing.TB, srcDir string, o ImageOptions) string {
	t.Helper()
	RequireTools(t, "mkfs.ext4", "fsck.ext4", "debugfs")
	img := filepath.Join(t.TempDir(), "base.ext4")
	if err := BuildImageAt(img, srcDir, o); err != nil {
		t.Fatal(err)
	}
	return img
}

// BuildImageAt is BuildImage writing to a chosen path, returning errors.
func BuildImageAt(img, srcDir string, o ImageOptions) error {
	size := o.Size
	if size == 0 {
		size = DefaultSize
	}
	ft := o.FakeTime
	if ft == 0 {
		ft = DefaultFakeTime
	}
	// e2fsck takes its clock (s_lastcheck) from E2FSCK_TIME.
	env := []string{fakeTimeEnv + "=" + strconv.FormatInt(ft, 10), "E2FSCK_TIME=" + strconv.FormatInt(ft, 10)}
	_ = os.Remove(img)
	args := append(o.MkfsArgs(), "-d", srcDir, img, strconv.FormatInt(size/1024, 10)+"k")
	if out, errOut, err := run(env, "mkfs.ext4", args...); err != nil {
		return toolError(fmt.Sprintf("mkfs.ext4 %v", args), err, out, errOut)
	}
	// -p exits 1 when it fixed something (here: directories it indexed).
	out, errOut, err := run(env, "fsck.ext4", "-pfD", img)
	if c := exitCode(err); c != 0 && c != 1 {
		return toolError("fsck.ext4 -pfD "+img, err, out, errOut)
	}
	if o.NormalizeTimes {
		if err := normalizeTimes(img); err != nil {
			return err
		}
	}
	return FsckErr(img)
}

// Fsck fails the test unless `e2fsck -fn img` finds the image clean.
func Fsck(t testing.TB, img string) {
	t.Helper()
	RequireTools(t, "e2fsck")
	if err := FsckErr(img); err != nil {
		t.Fatal(err)
	}
}

// FsckErr runs `e2fsck -fn img` and returns an error with its output
// unless it exits 0.
func FsckErr(img string) error {
	out, errOut, err := run(nil, "e2fsck", "-fn", img)
	if err != nil {
		return toolError("e2fsck -fn "+img, err, out, errOut)
	}
	return nil
}
