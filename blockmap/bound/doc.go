// Package bound computes a lower bound on what a release costs: the write
// units and the snapshot COW that any in-place sync of the same new tree
// onto the same base must cost under a model (W, C), whatever its
// placement. It is computed from what a sync leaves behind (the base, the
// image the sync wrote, and which of its changed blocks hold file data,
// from blockmap/attrib), so it works for any release, not only generated
// ones.
//
// With B the block size, the bound is
//
//	units = |U(M)| + ceil(max(0, D*B - R) / W)
//
// where
//
//   - D, new data, counts the blocks of the new tree's files (regular
//     files and slow symlinks) whose bytes the base holds nowhere. Each
//     must be written to a place whose base bytes differ, whatever the
//     placement, and distinct blocks of the tree take distinct places. A
//     file-data block the sync left unchanged has its bytes in the base
//     already, so only changed ones are looked at, and one is not counted
//     when it is all zeros (it could be a hole), when the base block at its
//     place holds its bytes up to its last non-zero byte (a shortened
//     file's tail kept in place), or when some block of the base hashes the
//     same (the base holds it somewhere; whether that place could take it
//     is not asked, and a hash collision can only lower D).
//   - M, metadata that must change, is the inode-table blocks holding an
//     inode that is in use in the base and, in the new image, is free or
//     has another mode, owner, group, link count, mtime or (except for
//     directories) size; plus, when the number of inodes in use changes,
//     one group's inode bitmap and descriptor block (its free-inode count
//     must change), from the group that adds the fewest units. U(M) is the
//     write units holding M.
//   - R, room, is the bytes of U(M) outside every metadata block of the
//     layout: new data may share units with M, but no more than that.
//
// Chunks are those of U(M) plus, when C divides W, the W/C chunks of each
// data unit (the device writes whole units); otherwise the data units'
// bytes over C. COW is cow-model.md's formula of that chunk count.
//
// Why it is a lower bound, and where it is an estimate:
//
//   - It leaves things out, each of which could only raise the true
//     figure: directory blocks of directories whose entries change,
//     extent-tree and xattr blocks, the table blocks of new inodes, block
//     bitmaps and descriptors of allocations, and the superblock (e2fsck
//     does not require its summary counts; the kernel writes them only at
//     unmount).
//   - M assumes the sync keeps the inode number of every path that keeps
//     its type, as ext4sync does: then an inode slot it frees or gives
//     another identity belongs to a path that is gone or changed, which no
//     placement can leave as it was. A sync that renumbered unchanged paths
//     would make M too large.
//   - A file's last block is looked for whole (zero-padded, as the sync
//     writes it) anywhere in the base, and by its bytes up to its last
//     non-zero byte only at its own place. A placement that left other
//     base bytes past a file's end could, in that rare case, save a block
//     D counts.
package bound
