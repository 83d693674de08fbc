package overlay

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// accessModeMask is O_ACCMODE; O_RDONLY is 0 under it.
const accessModeMask = 0o3

// TestOpenIsReadOnly checks the kernel's record of the base's open flags,
// since tests usually run as root, where file permissions prove nothing.
func TestOpenIsReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "base")
	if err := os.WriteFile(path, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", d.baseFile.Fd()))
	if err != nil {
		t.Skipf("no /proc fdinfo: %v", err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			if flags&accessModeMask != uint64(os.O_RDONLY) {
				t.Fatalf("base opened with flags %o, want read-only", flags)
			}
			return
		}
	}
	t.Fatalf("no flags in fdinfo:\n%s", info)
}
