// Package fs is the read-write core of the ext4 engine: it opens an ext4
// filesystem on a block device (anything with ReadAt and WriteAt, usually
// the copy-on-write overlay over the base image), validates it, and offers
// block and inode I/O, bitmaps and allocation to the format packages
// (extent, dir, xattr) that build on it.
//
// Open refuses anything it cannot update safely: unknown or unsupported
// features, bad checksums, a journal needing recovery, recorded errors and
// pending orphans. Every checksum it reads is verified.
//
// Allocation never hard-codes where things go: the FS asks its Placement
// (DefaultPlacement unless Options says otherwise), which sees free space
// through SpaceView and InodeView and returns a choice the FS validates.
//
// Changes to bitmaps, group descriptors and the superblock's counts stay in
// memory until Flush, which writes only what changed: the dirty bitmaps,
// the descriptor-table blocks whose bytes changed and the primary
// superblock. Backup superblocks and descriptors, the journal, and
// unrelated superblock fields (mount counts, write times) are never
// touched, so an unchanged filesystem flushes to zero writes.
package fs
