package tarsource

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// PAX record prefixes that carry extended attributes: GNU tar and star
// write the raw value; libarchive writes a URL-encoded name and a base64
// value.
const (
	paxSchilyXattr     = "SCHILY.xattr."
	paxLibarchiveXattr = "LIBARCHIVE.xattr."
)

// Kernel limits on one attribute (XATTR_NAME_MAX, XATTR_SIZE_MAX).
const (
	maxXattrName  = 255
	maxXattrValue = 64 << 10
)

// xattrsOf collects an entry's extended attributes from its PAX records,
// sorted by name. A name given both ways keeps the SCHILY value. ACLs that
// are only in GNU tar's text form (SCHILY.acl.*) are converted to the VFS
// encoding.
func xattrsOf(records map[string]string) ([]tree.Xattr, error) {
	got := make(map[string][]byte)
	for k, v := range records {
		if name, ok := strings.CutPrefix(k, paxSchilyXattr); ok {
			got[name] = []byte(v)
		}
	}
	for k, v := range records {
		enc, ok := strings.CutPrefix(k, paxLibarchiveXattr)
		if !ok {
			continue
		}
		name, err := url.PathUnescape(enc)
		if err != nil {
			return nil, fmt.Errorf("%w: xattr name %q: %v", ErrBadEntry, enc, err)
		}
		if _, dup := got[name]; dup {
			continue
		}
		value, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			return nil, fmt.Errorf("%w: xattr %q: base64 value: %v", ErrBadEntry, name, err)
		}
		got[name] = value
	}
	if err := aclsFromText(records, got); err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, nil
	}
	out := make([]tree.Xattr, 0, len(got))
	for name, value := range got {
		if name == "" || len(name) > maxXattrName || strings.IndexByte(name, 0) >= 0 {
			return nil, fmt.Errorf("%w: xattr name %q", ErrBadEntry, name)
		}
		if len(value) > maxXattrValue {
			return nil, fmt.Errorf("%w: xattr %q is %d bytes, the kernel allows %d", ErrBadEntry, name, len(value), maxXattrValue)
		}
		out = append(out, tree.Xattr{Name: name, Value: value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
