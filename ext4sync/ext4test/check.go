package ext4test

import (
	"testing"
)

// CheckOptions tune CheckImage.
type CheckOptions struct {
	// Compare is used for every judge against the source directory;
	// CheckImage adds what each judge cannot see by itself.
	Compare CompareOptions
	// NoKernel skips the kernel judge even when it is available.
	NoKernel bool
}

// EngineCheckOptions is what an image written by the engine must meet:
// every field of the source (content, modes, owners, mtime with
// nanoseconds, xattrs, hard links, devices, targets), atime/ctime/crtime
// per EngineTimePolicy, and /lost+found allowed.
func EngineCheckOptions() CheckOptions {
	tp, epoch := EngineTimePolicy()
	return CheckOptions{Compare: CompareOptions{LostFound: true, Times: tp, Epoch: epoch}}
}

// MkfsCheckOptions is what `mkfs.ext4 -d` (e2fsprogs 1.47) output meets
// against its source: it keeps content, modes, owners, xattrs (ACLs in
// VFS form), hard links, devices, targets and mtime seconds, but drops
// the nanoseconds of every timestamp, takes ctime from the source's
// st_ctime and crtime from E2FSPROGS_FAKE_TIME, gives the root directory
// E2FSPROGS_FAKE_TIME as mtime, and adds /lost+found.
func MkfsCheckOptions() CheckOptions {
	return CheckOptions{Compare: CompareOptions{LostFound: true, Ignore: FieldMtimeNs, Times: TimesIgnore,
		IgnoreAt: map[string]Field{"": FieldMtime | FieldMtimeNs}}}
}

// CheckImage is the one call an engine test makes after each write:
// e2fsck -fn, then debugfs, go-ext4 and (when available) the kernel each
// compared with srcDir under EngineCheckOptions, and debugfs compared
// with the kernel field by field.
func CheckImage(t testing.TB, img, srcDir string) {
	t.Helper()
	CheckImageWith(t, img, srcDir, EngineCheckOptions())
}

// CheckImageWith is CheckImage with chosen options.
func CheckImageWith(t testing.TB, img, srcDir string, o CheckOptions) {
	t.Helper()
	RequireTools(t, "e2fsck", "debugfs")
	if err := FsckErr(img); err != nil {
		t.Fatal(err)
	}
	src := SnapshotDir(t, srcDir)
	dbg := SnapshotImage(t, img)
	Compare(t, src, dbg, o.Compare)
	g, err := SnapshotGoExt4Err(img)
	if err != nil {
		t.Error(err)
	} else {
		Compare(t, src, g, o.Compare)
		if len(g.Notes) > 0 {
			t.Logf("ext4test: go-ext4 could not read %d fields, e.g. %s", len(g.Notes), g.Notes[0])
		}
	}
	if ok, why := KernelAvailable(); ok && !o.NoKernel {
		k, err := SnapshotKernelErr(img)
		if err != nil {
			t.Error(err)
			return
		}
		Compare(t, src, k, o.Compare)
		Compare(t, dbg, k, CompareOptions{Times: TimesExact})
	} else if !o.NoKernel {
		t.Logf("ext4test: kernel judge skipped: %s", why)
	}
}
