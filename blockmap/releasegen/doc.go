// Package releasegen builds deterministic pairs of rootfs trees that model
// real distribution updates, for benchmarks and the demo: a base release
// laid out like a small embedded Linux (FHS tree of shared libraries,
// executables, kernel modules, tzdata, python modules, docs and config) and
// the next release derived from it the way a security update changes a
// distribution:
//
//   - libraries and executables recompiled in place: scattered byte changes
//     and small size changes;
//   - thousands of tiny tzdata-like files touched (new mtime, some content);
//   - the kernel-modules directory renamed on a version bump, a few modules
//     changed;
//   - a versioned library renamed (libfoo.so.3.0.1 -> 3.0.2) with its
//     symlinks;
//   - one package added and one removed.
//
// Everything derives from a seed, so the same Config always writes the same
// bytes, names and mtimes.
package releasegen
