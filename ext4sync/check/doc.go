// Package check decides whether an ext4 image is consistent, the way
// e2fsck -fn would, before lvm-um-gen edits a base in place and before it
// publishes the image it built.
//
// It reads the image only through the engine's format layer (package disk
// for the superblock, descriptors, inodes and journal superblock, extent
// for extent trees, dir for directory blocks, xattr for extended
// attributes) and applies e2fsck's rules itself; it never uses package fs
// or the sync's tree reader, whose results it is meant to vouch for.
//
// The passes follow e2fsprogs' e2fsck (learned from its source, not copied):
//
//   - pass 0: superblock values, features, state; every group
//     descriptor's checksum, flags, counts and table locations; the resize
//     inode's reserved descriptor blocks;
//   - pass 1: every inode up to each group's bg_itable_unused: checksum,
//     dtime, flags, mode, size and i_blocks; extent trees (ordered,
//     non-overlapping, in range, depth and entry counts consistent, via
//     package extent), block maps and xattr blocks (with their reference
//     counts), every block they use claimed once, next to the superblocks,
//     descriptors, reserved descriptors, bitmaps and inode tables of every
//     group, so a block claimed twice is found;
//   - pass 2: every directory block: record chains, ".", "..", entries
//     naming in-use inodes of the recorded file type, names, duplicates,
//     directories with two names, checksums, and htree indexes (limits,
//     order, every block referenced once, each leaf's hashes inside its
//     index range, leaf depth);
//   - pass 3: every directory reachable from the root, ".." naming the
//     parent;
//   - pass 4: link counts equal the entries naming each inode;
//   - pass 5: block and inode bitmaps equal what pass 1 found (BLOCK_UNINIT
//     and INODE_UNINIT groups as libext2fs reads them, flex_bg tables
//     anywhere), bitmap padding and checksums, group and superblock free
//     counts and directory counts;
//   - the journal inode and superblock, and an empty, valid orphan file.
//
// It refuses some images e2fsck -fn exits 0 on:
//
//   - what e2fsck's superblock and descriptor pass reports but -n then
//     forgives (it marks the filesystem valid again after that pass):
//     free counts above the totals, uninit flags or unused inodes without
//     group checksums, BLOCK_UNINIT on the last group, a bad
//     s_want_extra_isize, an invalid resize inode;
//   - superblock free block and inode counts that differ from the groups'
//     (e2fsck reports them and exits 0);
//   - a zero file type in an entry when the filetype feature is on;
//   - an inode with fewer extra bytes than s_min_extra_isize under the
//     extra_isize feature (it cannot hold the times an edit may set);
//   - in-inode xattrs the engine cannot decode (unknown name index, NUL in
//     a name, a malformed POSIX ACL);
//   - features it does not know (reported as unsupported), and a journal
//     that still holds transactions or records an error, errors recorded
//     in the superblock or an unclean state (reported as not clean: e2fsck
//     -n skips the replay an edit would need first).
//
// The first problem is returned as one *Error naming the structure and
// where it lives. Memory is one bit per block plus a few bytes per inode;
// the image is read once, metadata only, in large reads.
package check
