// Package attrib says why each changed block of an image changed and who
// made it change: it attributes every changed block to a category (file
// data, directory, extent tree, xattr block, inode table, block bitmap,
// inode bitmap, group descriptors, superblock, other) and to its owners
// (the paths the sync charged it to, else its metadata category), then
// ranks the contributors by the write units they dirtied.
//
// A unit dirtied by several owners is counted in full for each of them
// (Contributor.Units, "how many units would stay clean without you"
// is at most that) and also split among them by the changed blocks each
// has in it (Contributor.Share, which sums to the units changed: a library
// that wrote 200 blocks of a unit takes most of it, the config file that
// wrote one block there little). Contributors are ranked by Share, then
// Units, then Blocks, then name, so the ranking adds up to the predicted
// cost.
package attrib
