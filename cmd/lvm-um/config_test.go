package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	c, err := ParseConfig(strings.NewReader("# nothing but a comment\n\n"), "empty.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Path = "empty.conf"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c.VolumeGroup != "devicevg" || c.Origin != "rootfs1" || c.Snapshot != "rootfs2" || c.RootMount != "/" || c.ReserveSet {
		t.Errorf("defaults are not the reference setup: %+v", c)
	}
}

// TestConfigExample parses the example the README shows.
func TestConfigExample(t *testing.T) {
	text := `# /etc/mender/lvm-um.conf
volume_group  = vg0
origin        = root_a
snapshot      = root_b
boot_snapshot = grub-mender-grubenv-set mender_boot_part 2 upgrade_available 1 bootcount 0
boot_origin   = grub-mender-grubenv-set mender_boot_part 1 upgrade_available 0
after_commit  = shutdown -r +1 "lvm-um: merging the committed update"
reserve       = 16MiB
snapshot_size = 64M
root_mount    = /
`
	c, err := ParseConfig(strings.NewReader(text), "x")
	if err != nil {
		t.Fatal(err)
	}
	if c.VolumeGroup != "vg0" || c.Origin != "root_a" || c.Snapshot != "root_b" || c.Reserve != 16<<20 || !c.ReserveSet ||
		c.SnapshotSize != 64<<20 || c.SnapshotSizeForce {
		t.Errorf("%+v", c)
	}
	if want := []string{"shutdown", "-r", "+1", "lvm-um: merging the committed update"}; !reflect.DeepEqual(c.AfterCommit, want) {
		t.Errorf("after_commit %q", c.AfterCommit)
	}
	if c.BootSnapshot[0] != "grub-mender-grubenv-set" || len(c.BootSnapshot) != 7 {
		t.Errorf("boot_snapshot %q", c.BootSnapshot)
	}
}

func TestCommandWords(t *testing.T) {
	for in, want := range map[string][]string{
		`a b  c`:             {"a", "b", "c"},
		`a "b c" d`:          {"a", "b c", "d"},
		`a 'b "c' d`:         {"a", `b "c`, "d"},
		`a "x\"y\\z"`:        {"a", `x"y\z`},
		`a\ b c`:             {"a b", "c"},
		`'' x`:               {"", "x"},
		`pre"mid"post`:       {"premidpost"},
		"\ttab\tseparated\t": {"tab", "separated"},
	} {
		got, err := command(in, true)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("command(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"open`, `'open`, `a\`, ``, `   `} {
		if got, err := command(in, true); err == nil {
			t.Errorf("command(%q) = %q, want an error", in, got)
		}
	}
	if got, err := command("", false); err != nil || got != nil {
		t.Errorf("optional empty command: %q %v", got, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, text := range []string{
		"origin = a\norigin = b\n",
		"snapshot_size = 0\n",
		"snapshot_size = -5\n",
		"snapshot_size_force = maybe\n",
		"root_mount = relative\n",
		"= value\n",
		"volume_group = -vg\n",
		"volume_group = " + strings.Repeat("v", 128) + "\n",
		"snapshot = a/b\n",
		"after_commit = 'x\n",
	} {
		_, err := ParseConfig(strings.NewReader(text), "bad.conf")
		if err == nil || !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), "config bad.conf") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v", text, err)
		}
	}
	_, err := LoadConfig(filepath.Join(t.TempDir(), "missing.conf"))
	if err == nil || !strings.Contains(err.Error(), "missing.conf: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "ok.conf")
	if err := os.WriteFile(p, []byte("reserve = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(p); err != nil || !c.ReserveSet || c.Reserve != 0 || c.Path != p {
		t.Errorf("LoadConfig: %+v %v", c, err)
	}
}

// FuzzConfig: any file gives a usable config or one error line, never a
// panic; a usable one names two different volumes and boot commands.
func FuzzConfig(f *testing.F) {
	f.Add("volume_group = vg\nboot_snapshot = a 'b c' \"d\\\"e\"\nreserve = 1MiB\n")
	f.Add("snapshot_size = 4M\nsnapshot_size_force = yes\n# x\n")
	f.Add("origin = x\nsnapshot = x\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConfig(strings.NewReader(text), "f.conf")
		if err != nil {
			if !errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if c.Origin == c.Snapshot || len(c.BootSnapshot) == 0 || len(c.BootOrigin) == 0 || c.RootMount == "" ||
			c.Reserve < 0 || c.SnapshotSize < 0 || (c.SnapshotSizeForce && c.SnapshotSize == 0) {
			t.Fatalf("accepted %+v", c)
		}
		for _, name := range []string{c.VolumeGroup, c.Origin, c.Snapshot} {
			if _, err := lvmName(name); err != nil {
				t.Fatalf("accepted name %q", name)
			}
		}
	})
}
