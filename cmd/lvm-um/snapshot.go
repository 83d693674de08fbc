package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/host"
)

// module is one run of the update module in one state.
type module struct {
	state    string
	cfg      Config
	tree     tree
	log      *logger
	lvm      host.LVM
	runner   host.Runner
	mountDev func(path string) (host.Dev, error)
}

// The module keeps its state on the snapshot itself, as LVM tags, so it
// survives reboots and needs no file of its own:
const (
	// tagOurs marks a snapshot the module created: only such a snapshot
	// is ever removed or merged.
	tagOurs = "lvm_um"
	// tagCOWPrefix + the predicted COW bytes, for the predicted-vs-actual
	// log lines of later states.
	tagCOWPrefix = "lvm_um_cow_"
	// tagVerified: the payload was written and the snapshot's sha256 is
	// the artifact's rootfs-image.checksum. ArtifactInstall needs it.
	tagVerified = "lvm_um_verified"
	// tagInstalled: the boot target was switched to the snapshot and
	// not switched back. Cleanup and Download leave such a snapshot be.
	tagInstalled = "lvm_um_installed"
)

// volumes is what the module finds of its two volumes.
type volumes struct {
	origin  host.LV
	snap    host.LV
	hasSnap bool
}

// find looks up the origin and the snapshot named in the config.
func (m *module) find(ctx context.Context) (volumes, error) {
	lvs, err := m.lvm.LVs(ctx, m.cfg.VolumeGroup)
	if err != nil {
		return volumes{}, badInput(fmt.Errorf("volume group %s (config volume_group): %w", m.cfg.VolumeGroup, err))
	}
	var v volumes
	hasOrigin := false
	for _, lv := range lvs {
		switch lv.Name {
		case m.cfg.Origin:
			v.origin, hasOrigin = lv, true
		case m.cfg.Snapshot:
			v.snap, v.hasSnap = lv, true
		}
	}
	if !hasOrigin {
		return volumes{}, badInput(fmt.Errorf("origin volume %s/%s does not exist (config origin)", m.cfg.VolumeGroup, m.cfg.Origin))
	}
	if v.origin.IsSnapshot() {
		return volumes{}, badInput(fmt.Errorf("origin volume %s/%s is itself a snapshot, not the rootfs volume (config origin)", m.cfg.VolumeGroup, m.cfg.Origin))
	}
	return v, nil
}

// ours reports whether lv is a snapshot of the origin that this module
// created.
func (m *module) ours(lv host.LV) bool {
	return lv.IsSnapshot() && lv.Origin == m.cfg.Origin && lv.HasTag(tagOurs)
}

// ourSnapshot returns the module's snapshot, which must exist.
func (m *module) ourSnapshot(ctx context.Context) (host.LV, error) {
	v, err := m.find(ctx)
	if err != nil {
		return host.LV{}, err
	}
	if !v.hasSnap {
		return host.LV{}, fmt.Errorf("no snapshot %s/%s: nothing was downloaded, or it was removed", m.cfg.VolumeGroup, m.cfg.Snapshot)
	}
	if !m.ours(v.snap) {
		return host.LV{}, badInput(fmt.Errorf("volume %s/%s is not a snapshot of %s made by lvm-um (config snapshot)", m.cfg.VolumeGroup, m.cfg.Snapshot, m.cfg.Origin))
	}
	return v.snap, nil
}

func (m *module) lvName(name string) string { return m.cfg.VolumeGroup + "/" + name }

// predictedCOW reads the pre-flight's figure from the snapshot's tags.
func predictedCOW(lv host.LV) (int64, bool) {
	for _, t := range lv.Tags {
		if s, ok := strings.CutPrefix(t, tagCOWPrefix); ok {
			n, err := strconv.ParseInt(s, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// status reads the snapshot's dm-snapshot status and logs the predicted
// and the kernel's actual COW: the line a fleet greps to compare the
// prediction with the truth.
func (m *module) status(ctx context.Context, lv host.LV) (host.SnapStatus, error) {
	st, err := m.lvm.SnapshotStatus(ctx, lv.DMName())
	if err != nil {
		return st, err
	}
	pred := "unknown"
	if p, ok := predictedCOW(lv); ok {
		pred = strconv.FormatInt(p, 10)
	}
	actual := strconv.FormatInt(st.AllocatedBytes(), 10)
	switch {
	case st.Invalid:
		actual = "invalid"
	case st.MergeFailed:
		actual = "merge-failed"
	}
	m.log.Printf("cow: state=%s predicted=%s actual=%s snapshot=%d", m.state, pred, actual, st.SectorsTotal*512)
	return st, nil
}

// checkValid fails unless the snapshot is usable: an invalidated
// (overflowed) snapshot must never be installed, booted or merged.
func (m *module) checkValid(ctx context.Context, lv host.LV) error {
	st, err := m.status(ctx, lv)
	if err != nil {
		return err
	}
	if st.Invalid || lv.Invalid() {
		return fmt.Errorf("snapshot %s is invalid: its copy-on-write store overflowed; the update is rolled back, never merged", m.lvName(lv.Name))
	}
	if st.MergeFailed {
		return fmt.Errorf("snapshot %s: a merge of it failed", m.lvName(lv.Name))
	}
	return nil
}

// runsFrom reports whether the running rootfs (config root_mount) is on lv.
func (m *module) runsFrom(lv host.LV) (bool, host.Dev, error) {
	dev, err := m.mountDev(m.cfg.RootMount)
	if err != nil {
		return false, dev, fmt.Errorf("the running rootfs (config root_mount): %w", err)
	}
	return lv.Major >= 0 && dev == host.Dev{Major: lv.Major, Minor: lv.Minor}, dev, nil
}

// boot runs one of the boot-switch commands.
func (m *module) boot(ctx context.Context, argv []string, key string) error {
	if _, err := m.runner.Run(ctx, argv[0], argv[1:]...); err != nil {
		return fmt.Errorf("switching the boot target (config %s): %w", key, err)
	}
	m.log.Printf("boot: %s", strings.Join(argv, " "))
	return nil
}

// errInUse is returned by removeUnused for a snapshot something holds
// open (the running rootfs): it can only go after a reboot.
var errInUse = errors.New("in use")

// removeUnused removes the module's snapshot unless it is open or
// merging. Removing a snapshot never touches its origin.
func (m *module) removeUnused(ctx context.Context, lv host.LV) error {
	if lv.MergePending() {
		return fmt.Errorf("snapshot %s is being merged into %s: it cannot be removed", m.lvName(lv.Name), lv.Origin)
	}
	if lv.Open() {
		return errInUse
	}
	if err := m.lvm.Remove(ctx, m.cfg.VolumeGroup, lv.Name); err != nil {
		return err
	}
	m.log.Printf("removed snapshot %s", m.lvName(lv.Name))
	return nil
}
