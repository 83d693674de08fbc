// Package generator turns a previously shipped ext4 rootfs image (the base)
// and a new rootfs into a Mender lvm-um artifact whose image differs from
// the base in as few snapshot chunks as possible, predicts the copy-on-write
// space the device needs (see /work/shared/design/cow-model.md) and refuses
// releases that would overflow the LVM snapshot.
//
// The image itself is produced by a Builder (the ext4sync engine in the
// product, a fake in tests). The generator does everything around it:
// measuring the change by comparing the two images write unit by write unit
// in one pass that also says why each block changed and who changed it
// (blockmap/attrib) and computes the release's lower bound (blockmap/bound),
// the COW prediction, the refusal, the reports, the unit map
// (blockmap/svgmap) and the artifact, and it makes every output atomic: a
// file appears complete under its final name or not at all.
package generator
