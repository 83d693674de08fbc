package tarsource

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// The digests Open takes are those of the content Each gives, for every
// path of the tree (each name of a hard link, a replaced path's last
// content), so the sync need not read the archive again for them.
func TestDigestsAreEachsContent(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 300) // several digest units, the last one short
	tr, _, err := openEntries(t, append(featureEntries(),
		reg("big", 0o644, big),
		reg("twice", 0o644, "first"), reg("twice", 0o644, "second"),
		link("big2", "big"),
	), Options{})
	must(t, err)
	dg, ok := tr.Contents.(tree.Digester)
	if !ok {
		t.Fatal("tar contents are no tree.Digester")
	}
	got := contentsOf(t, tr)
	n := 0
	for _, node := range tr.Nodes {
		if node.Kind != tree.Regular || node.Size == 0 {
			continue
		}
		content, ok := got[node.Path]
		if !ok { // a hard link's other name: Each gives one path of the group
			for _, other := range tr.Nodes {
				if other.LinkID == node.LinkID && got[other.Path] != nil {
					content = got[other.Path]
				}
			}
		}
		want, err := tree.DigestReader(bytes.NewReader(content), node.Size)
		must(t, err)
		d, err := dg.Digests(node)
		must(t, err)
		if !reflect.DeepEqual(d, want) {
			t.Errorf("%s: digests %v, content's %v", node.Path, d, want)
		}
		n++
	}
	if n < 4 {
		t.Fatalf("only %d files checked", n)
	}
	if _, err := dg.Digests(&tree.Node{Path: "no/such/file"}); err == nil {
		t.Error("digests of a path the archive does not hold")
	}
}
