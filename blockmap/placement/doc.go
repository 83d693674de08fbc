// Package placement is the cost-aware fs.Placement: it puts new blocks and
// inodes where they add the least predicted snapshot COW, per the model in
// /work/shared/design/cow-model.md.
//
// The policy works on placement units of max(W, C) bytes (a write unit, or
// the chunk when chunks are larger and so the real cost granule). A unit is
// dirty once the device holds a change in it or the policy has handed out a
// block or inode in it (pending allocations are not yet written, but will
// be). Writing into a dirty unit is free, so:
//
//   - blocks go first into free blocks of dirty units, the nearest at or
//     after the goal first (wrapping);
//   - then into a run of wholly free clean units that holds the rest, if
//     there is one (dense, unit-aligned, one extent);
//   - else into the clean units with the most free blocks, one at a time,
//     nearest the goal among equals, so each new unit is filled before the
//     next one is opened;
//   - inodes: a freed inode whose inode-table unit is dirty, else any free
//     inode in a dirty inode-table unit, else fs.DefaultPlacement's rule.
//
// Every block answer is checked against fs.DefaultPlacement's answer to
// the same request: the default's is taken when it opens fewer clean
// units, or as many and (for units of 16 blocks or more) leaves more free
// room in them, or otherwise as many in no more extents. So no request
// opens more units than under the default rule, and ties keep files
// contiguous next to their goal.
//
// Handing out blocks of a group also makes its block bitmap, its group
// descriptor block and the superblock pending (Flush will write them), and
// an inode makes its table block, inode bitmap and descriptor block pending.
// That needs the metadata locations (the view's disk.Layout); a view without
// them leaves only the handed-out blocks and inodes to count.
//
// Free counts per unit are computed from the SpaceView once and then kept
// up to date incrementally: the policy subtracts what it hands out, and
// rescans only the groups whose free count in the view disagrees with its
// own (blocks freed by the sync). Everything is deterministic: the same
// filesystem, device state and requests give the same answers.
//
// With W = C = block size a unit is one block, no free block is ever in a
// dirty unit, and block answers are the default rule's ("one contiguous
// run from the goal if there is one, else fill free blocks from the
// goal"); only inodes differ, and only towards table blocks already dirty.
package placement
