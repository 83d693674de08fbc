// Package attrib says why each changed block of an image changed and who
// made it change: it attributes every changed block to a category (file
// data, directory, extent tree, xattr block, inode table, block bitmap,
// inode bitmap, group descriptors, superblock, other) and to its owners
// (the paths the sync charged it to, else its metadata category), then
// ranks the contributors by the write units they dirtied.
//
// A unit dirtied by several owners is counted in full for each of them
// (Contributor.Units, "how many units would stay clean without you"
// is at most that) and also split evenly among them (Contributor.Share,
// which sums to the units changed). Contributors are ranked by Share, then
// Units, then Blocks, then name, so the ranking adds up to the predicted
// cost and, among contributors sharing the same units, the one that wrote
// more comes first.
package attrib
