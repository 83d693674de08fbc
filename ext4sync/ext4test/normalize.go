package ext4test

import (
	"fmt"
	"os"
	"sort"
)

// normalizeTimes sets every reachable inode's atime, ctime and crtime
// (with their extra words) to its mtime, in one debugfs -w process.
func normalizeTimes(img string) error {
	scratch, err := debugfsScratch()
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	paths, _, err := debugfsWalk(img, scratch)
	if err != nil {
		return err
	}
	seen := map[uint64]bool{}
	var inos []uint64
	for _, w := range paths {
		if !seen[w.ino] {
			seen[w.ino] = true
			inos = append(inos, w.ino)
		}
	}
	sort.Slice(inos, func(i, j int) bool { return inos[i] < inos[j] })
	var cmds []string
	for _, ino := range inos {
		cmds = append(cmds, statCmd(ino))
	}
	res, err := debugfsBatch(img, cmds, false, scratch)
	if err != nil {
		return err
	}
	var set []string
	for _, ino := range inos {
		st, err := parseStat(ino, res[statCmd(ino)])
		if err != nil {
			return err
		}
		m := st.rawTimes["mtime"]
		for _, f := range []string{"atime", "ctime", "crtime"} {
			set = append(set,
				fmt.Sprintf("sif <%d> %s 0x%x", ino, f, m[0]),
				fmt.Sprintf("sif <%d> %s_extra 0x%x", ino, f, m[1]))
		}
	}
	_, err = debugfsBatch(img, set, true, scratch)
	return err
}
