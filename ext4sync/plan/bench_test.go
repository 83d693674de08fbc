package plan

import (
	"fmt"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func BenchmarkMakeRootfs(b *testing.B) {
	old := Old{Inode: map[string]uint32{"": 2}}
	nodes := []*tree.Node{node("", dir)}
	var newNodes []*tree.Node
	newNodes = append(newNodes, node("", dir))
	ino := uint32(11)
	for d := 0; d < 500; d++ {
		dp := fmt.Sprintf("d%03d", d)
		nodes = append(nodes, node(dp, dir))
		newNodes = append(newNodes, node(dp, dir))
		old.Inode[dp] = ino
		ino++
		for f := 0; f < 120; f++ {
			fp := fmt.Sprintf("%s/f%03d", dp, f)
			nodes = append(nodes, node(fp, reg))
			old.Inode[fp] = ino
			ino++
			if f%50 != 7 {
				newNodes = append(newNodes, node(fp, reg))
			} else {
				newNodes = append(newNodes, node(fp+"x", reg))
			}
		}
	}
	old.Tree = tree.New(nodes, nil)
	new := tree.New(newNodes, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Make(old, new); err != nil {
			b.Fatal(err)
		}
	}
}
