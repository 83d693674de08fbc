package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/host"
)

// install is ArtifactInstall: the written, verified snapshot becomes the
// next boot's rootfs.
func (m *module) install(ctx context.Context) error {
	snap, err := m.ourSnapshot(ctx)
	if err != nil {
		return err
	}
	if !snap.HasTag(tagVerified) {
		return fmt.Errorf("snapshot %s was not completely written and verified: not installing it", m.lvName(snap.Name))
	}
	if err := m.checkValid(ctx, snap); err != nil {
		return err
	}
	if err := m.lvm.AddTag(ctx, m.cfg.VolumeGroup, snap.Name, tagInstalled); err != nil {
		return err
	}
	return m.boot(ctx, m.cfg.BootSnapshot, "boot_snapshot")
}

// verifyReboot is ArtifactVerifyReboot: the device must run from the
// snapshot (the bootloader did not fall back) and the snapshot must be
// valid.
func (m *module) verifyReboot(ctx context.Context) error {
	snap, err := m.ourSnapshot(ctx)
	if err != nil {
		return err
	}
	if err := m.checkValid(ctx, snap); err != nil {
		return err
	}
	return m.checkBooted(snap)
}

// checkBooted fails unless the running rootfs is the snapshot.
func (m *module) checkBooted(snap host.LV) error {
	on, dev, err := m.runsFrom(snap)
	if err != nil {
		return err
	}
	if !on {
		return fmt.Errorf("the running rootfs (%s, device %s) is not the snapshot %s (device %d:%d): the update did not boot",
			m.cfg.RootMount, dev, m.lvName(snap.Name), snap.Major, snap.Minor)
	}
	return nil
}

// commit is ArtifactCommit: after checking that the update booted and
// that its snapshot is valid, the boot target goes back to the origin and
// lvm merges the snapshot into it. The merge starts at the origin's next
// activation (the snapshot is the running rootfs, so lvm defers it), and
// reads of the origin see the merged content from the first moment: the
// next boot, whenever it comes, runs the new release from the origin.
// Nothing reboots here; see README "Reboot, commit, rollback".
func (m *module) commit(ctx context.Context) error {
	snap, err := m.ourSnapshot(ctx)
	if err != nil {
		return err
	}
	if snap.MergePending() {
		m.log.Printf("commit: the merge of %s is already scheduled", m.lvName(snap.Name))
		return m.boot(ctx, m.cfg.BootOrigin, "boot_origin")
	}
	if !snap.HasTag(tagVerified) {
		return fmt.Errorf("snapshot %s was never verified: not merging it", m.lvName(snap.Name))
	}
	if err := m.checkValid(ctx, snap); err != nil {
		return err
	}
	if err := m.checkBooted(snap); err != nil {
		return err
	}
	// Boot target first: if the merge request is lost (power cut), the
	// origin boots unmerged, the old release, and the client rolls back.
	if err := m.boot(ctx, m.cfg.BootOrigin, "boot_origin"); err != nil {
		return err
	}
	out, err := m.lvm.Merge(ctx, m.cfg.VolumeGroup, snap.Name)
	if err != nil {
		return fmt.Errorf("merging the snapshot: %w", err)
	}
	m.log.Printf("commit: merge of %s into %s scheduled: %s", m.lvName(snap.Name), m.cfg.Origin, oneLine(out))
	if len(m.cfg.AfterCommit) > 0 {
		// The merge cannot be undone now: a failure here is only logged.
		if _, err := m.runner.Run(ctx, m.cfg.AfterCommit[0], m.cfg.AfterCommit[1:]...); err != nil {
			m.log.Printf("warning: after_commit: %v", err)
		} else {
			m.log.Printf("after_commit: ran %q", m.cfg.AfterCommit)
		}
	}
	return nil
}

// rollback is ArtifactRollback: the origin becomes the boot target again
// and the snapshot goes; if the snapshot is the running rootfs it can only
// go after the reboot into the origin (Cleanup, or the next Download).
func (m *module) rollback(ctx context.Context) error {
	if err := m.boot(ctx, m.cfg.BootOrigin, "boot_origin"); err != nil {
		return err
	}
	v, err := m.find(ctx)
	if err != nil || !v.hasSnap {
		return err
	}
	if !m.ours(v.snap) {
		m.log.Printf("rollback: volume %s is not a snapshot made by lvm-um: left alone", m.lvName(v.snap.Name))
		return nil
	}
	if v.snap.MergePending() {
		return fmt.Errorf("snapshot %s is already being merged (the update was committed): it cannot be rolled back", m.lvName(v.snap.Name))
	}
	if v.snap.HasTag(tagInstalled) {
		if err := m.lvm.DelTag(ctx, m.cfg.VolumeGroup, v.snap.Name, tagInstalled); err != nil {
			return err
		}
	}
	err = m.removeUnused(ctx, v.snap)
	if errors.Is(err, errInUse) {
		m.log.Printf("rollback: snapshot %s is in use (the running rootfs); it is removed after the reboot into %s", m.lvName(v.snap.Name), m.cfg.Origin)
		return nil
	}
	return err
}

// verifyRollbackReboot is ArtifactVerifyRollbackReboot: the device must
// run from the origin again.
func (m *module) verifyRollbackReboot(ctx context.Context) error {
	v, err := m.find(ctx)
	if err != nil {
		return err
	}
	if !v.hasSnap {
		return nil
	}
	on, dev, err := m.runsFrom(v.snap)
	if err != nil {
		return err
	}
	if on {
		return fmt.Errorf("the running rootfs (%s, device %s) is still the snapshot %s", m.cfg.RootMount, dev, m.lvName(v.snap.Name))
	}
	return nil
}

// failure is ArtifactFailure: whatever the failure, drop what can be
// dropped (as Cleanup).
func (m *module) failure(ctx context.Context) error { return m.cleanup(ctx) }

// cleanup is Cleanup, safe to run any number of times: it removes a
// snapshot the module made that no update is using (not installed, not
// merging, not open) and leaves everything else alone.
func (m *module) cleanup(ctx context.Context) error {
	v, err := m.find(ctx)
	if err != nil || !v.hasSnap {
		return err
	}
	name := m.lvName(v.snap.Name)
	switch {
	case !m.ours(v.snap):
		m.log.Printf("cleanup: volume %s is not a snapshot made by lvm-um: left alone", name)
	case v.snap.MergePending():
		m.log.Printf("cleanup: snapshot %s merges into %s at its next activation", name, m.cfg.Origin)
	case v.snap.HasTag(tagInstalled):
		m.log.Printf("cleanup: snapshot %s holds the installed update: kept until commit or rollback", name)
	default:
		err := m.removeUnused(ctx, v.snap)
		if errors.Is(err, errInUse) {
			m.log.Printf("cleanup: snapshot %s is in use; it is removed after a reboot", name)
			return nil
		}
		return err
	}
	return nil
}

// oneLine joins a command's output lines into one log line.
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " / ")
}
