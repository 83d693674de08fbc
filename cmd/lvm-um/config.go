package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/generator/size"
)

// DefaultConfigPath is where the module reads its configuration;
// LVM_UM_CONFIG names another file.
const DefaultConfigPath = "/etc/mender/lvm-um.conf"

// Config is the module's configuration file: `key = value` lines, `#`
// comments. Keys left out take the defaults of the reference setup.
type Config struct {
	VolumeGroup string // volume_group
	Origin      string // origin: the rootfs LV the device runs from
	Snapshot    string // snapshot: the LV name the update is written to
	// BootSnapshot and BootOrigin are the commands (argv, no shell) that
	// make the next boot use the snapshot or the origin.
	BootSnapshot []string // boot_snapshot
	BootOrigin   []string // boot_origin
	// AfterCommit, when set, runs at the end of a successful
	// ArtifactCommit (e.g. `shutdown -r +1`, which schedules a reboot and
	// returns at once).
	AfterCommit []string // after_commit
	// Reserve (reserve), when set, replaces the artifact's reserve_bytes:
	// the space the running update may write before it is committed.
	Reserve    int64
	ReserveSet bool
	// SnapshotSize (snapshot_size), when not 0, is the snapshot's size if
	// it is at least what the pre-flight needs. SnapshotSizeForce
	// (snapshot_size_force) uses it even when it is smaller: only to test
	// overflow handling.
	SnapshotSize      int64
	SnapshotSizeForce bool
	// RootMount (root_mount) is the mount point of the running rootfs:
	// its device tells whether the system booted the snapshot.
	RootMount string

	Path string // the file it was read from
}

// DefaultConfig is the reference setup: rootfs1 and its snapshot rootfs2
// in devicevg, switched by U-Boot's environment as Mender's own
// integration does (mender_boot_part 1 or 2).
func DefaultConfig() Config {
	return Config{
		VolumeGroup:  "devicevg",
		Origin:       "rootfs1",
		Snapshot:     "rootfs2",
		BootSnapshot: []string{"fw_setenv", "bootcount", "0", "mender_boot_part", "2", "upgrade_available", "1"},
		BootOrigin:   []string{"fw_setenv", "mender_boot_part", "1", "upgrade_available", "0"},
		RootMount:    "/",
	}
}

// ErrConfig marks a configuration the module cannot use.
var ErrConfig = errors.New("config")

// LoadConfig reads the configuration file at path. A missing file is an
// error: a device that runs the module must say where its volumes are.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w %s: %v", ErrConfig, path, errors.Unwrap(err))
	}
	defer f.Close()
	return ParseConfig(f, path)
}

// ParseConfig reads a configuration from r; name is used in errors.
func ParseConfig(r io.Reader, name string) (Config, error) {
	c := DefaultConfig()
	c.Path = name
	seen := map[string]bool{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" || strings.Trim(key, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return Config{}, fmt.Errorf("%w %s line %d: want `key = value` (keys are lower case), got %q", ErrConfig, name, n, line)
		}
		if seen[key] {
			return Config{}, fmt.Errorf("%w %s line %d: %s is set twice", ErrConfig, name, n, key)
		}
		seen[key] = true
		if err := c.set(key, val); err != nil {
			return Config{}, fmt.Errorf("%w %s line %d: %s: %v", ErrConfig, name, n, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, fmt.Errorf("%w %s: %v", ErrConfig, name, err)
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("%w %s: %v", ErrConfig, name, err)
	}
	return c, nil
}

func (c *Config) set(key, val string) error {
	var err error
	switch key {
	case "volume_group":
		c.VolumeGroup, err = lvmName(val)
	case "origin":
		c.Origin, err = lvmName(val)
	case "snapshot":
		c.Snapshot, err = lvmName(val)
	case "boot_snapshot":
		c.BootSnapshot, err = command(val, true)
	case "boot_origin":
		c.BootOrigin, err = command(val, true)
	case "after_commit":
		c.AfterCommit, err = command(val, false)
	case "reserve":
		c.Reserve, err = size.Parse(val)
		c.ReserveSet = true
	case "snapshot_size":
		c.SnapshotSize, err = size.Parse(val)
		if err == nil && c.SnapshotSize == 0 {
			err = errors.New("must be more than 0 (leave it out to size the snapshot from the pre-flight)")
		}
	case "snapshot_size_force":
		c.SnapshotSizeForce, err = yesNo(val)
	case "root_mount":
		c.RootMount = val
		if !strings.HasPrefix(val, "/") {
			err = fmt.Errorf("%q is not an absolute path", val)
		}
	default:
		return fmt.Errorf("unknown key (known: volume_group, origin, snapshot, boot_snapshot, boot_origin, after_commit, reserve, snapshot_size, snapshot_size_force, root_mount)")
	}
	return err
}

func (c *Config) check() error {
	if c.Origin == c.Snapshot {
		return fmt.Errorf("origin and snapshot are both %q: the snapshot must be another volume", c.Origin)
	}
	if c.SnapshotSizeForce && c.SnapshotSize == 0 {
		return errors.New("snapshot_size_force needs snapshot_size")
	}
	return nil
}

// lvmName accepts a volume group or logical volume name as lvm2 does:
// letters, digits and + _ . -, not starting with -, not . or .., at most
// 127 characters.
func lvmName(s string) (string, error) {
	if s == "" || len(s) > 127 || s[0] == '-' || s == "." || s == ".." {
		return "", fmt.Errorf("%q is not a volume name", s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+_.-", r)) {
			return "", fmt.Errorf("%q is not a volume name (letters, digits and + _ . - only)", s)
		}
	}
	return s, nil
}

func yesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "1", "on":
		return true, nil
	case "no", "false", "0", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q: want yes or no", s)
}

// command splits a command line into words: blanks separate words, '...'
// keeps everything literally, "..." keeps blanks and takes \" and \\, and
// a backslash outside quotes escapes the next character. No shell runs
// it, so no other character is special.
func command(s string, required bool) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated \" quote")
			}
			inWord = true
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("a backslash ends the line")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if required && len(words) == 0 {
		return nil, errors.New("needs a command")
	}
	return words, nil
}
