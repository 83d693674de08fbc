// Package extent reads and writes ext4 extent trees: the 60-byte root in an
// inode's i_block and the index and leaf blocks below it.
//
// The package knows the on-disk format (format.go) and the rules e2fsck
// checks (read.go); it reaches the filesystem only through Reader/Store
// (block I/O) and Allocator (block bitmap), so it depends on nothing but
// ext4sync/disk.
//
// Reading: Read walks a tree, verifies it and returns its mappings and node
// blocks. Lookup and Range answer questions about the mappings.
//
// Writing: Build turns a mapping list into a tree, reusing the old tree's
// node blocks so that unchanged nodes keep their blocks and bytes (shape.go
// decides the shape, assign.go the blocks, build.go renders and writes).
// The caller then:
//   - copies Tree.Root into i_block (and sets EXT4_EXTENTS_FL),
//   - counts Tree.NodeCount() node blocks plus the mapped data blocks in
//     i_blocks,
//   - has the Allocator it passed keep the bitmap and group counters.
package extent
