// Package ext4test is the independent judge every ext4 engine test uses.
// It never reads an image with this project's own ext4 code: "our own
// reader agreeing with our own writer proves nothing". Test code only.
//
// # Judges
//
// Each judge turns a tree into a Snapshot (path -> Entry) and says which
// fields it can see (Snapshot.Known); Compare checks only fields both
// sides know and prints every difference as "path: field: want X, got Y".
//
//   - SnapshotDir: a directory, via statx (incl. birth time), listxattr/
//     getxattr, readlink and sha256 (read with O_NOATIME).
//   - SnapshotImage: debugfs. One process per directory depth for the
//     walk (ls -p), one for all inodes (stat, dump), one for all xattr
//     values (ea_get -f, which gives exact bytes; ea_list truncates long
//     values and prints ACLs in ext4's on-disk form). libext2fs converts
//     ACLs to the VFS encoding but writes id 0 where the kernel reports
//     ACL_UNDEFINED_ID (USER_OBJ, GROUP_OBJ, MASK, OTHER); normalizeACL
//     fixes that. Dumps go to /dev/shm when it exists (30x faster).
//   - SnapshotGoExt4: github.com/masahiro331/go-ext4-filesystem. Its
//     FileInfo.Sys() is nil, so it only sees kind, permission bits, size,
//     mtime seconds, symlink targets (path.Clean'ed) and content; in
//     directories over 128 entries it reads a fixed sample of files
//     because each of its lookups re-reads the whole directory, and it
//     cannot read slow symlinks of block-mapped (non-extent) images (it
//     panics; recovered). Such gaps are Entry.Unknown and Snapshot.Notes.
//   - SnapshotKernel: a read-only loop mount (root only; KernelAvailable
//     probes once), then the directory judge on the mount point plus the
//     image's own data ranges (SEEK_DATA). Always unmounted.
//
// CheckImage runs e2fsck -fn and all judges against the source directory
// under EngineCheckOptions, and debugfs against the kernel field by field.
//
// # What mkfs.ext4 -d (e2fsprogs 1.47) keeps
//
// Measured on GenTree output: it keeps kinds, permission bits (incl.
// setuid/setgid/sticky), uid/gid (up to 2^32-2), xattrs (ACLs, caps,
// SELinux labels), hard links, device numbers (old and new encodings),
// symlink targets, content and mtime/atime/ctime seconds (atime and ctime
// from the source's stat). It drops the nanoseconds of every timestamp,
// sets crtime to E2FSPROGS_FAKE_TIME, gives the root directory that time
// for all four timestamps, and adds /lost+found. MkfsCheckOptions says
// exactly that. Zero blocks in the source become holes. Symlink targets
// must be shorter than the block size.
//
// # Fixtures and random releases
//
// BuildImage makes an image like a Yocto build (mkfs.ext4 -d, then
// fsck.ext4 -pfD), reproducibly: fixed UUID, hash seed, E2FSPROGS_FAKE_TIME
// and E2FSCK_TIME, and with NormalizeTimes every atime/ctime/crtime set to
// the mtime, the same source gives the same bytes. GenTree and Mutate make
// random trees and releases that depend only on the rng's state.
package ext4test
