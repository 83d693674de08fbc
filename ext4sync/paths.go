package ext4sync

import (
	"math"
	"strings"
)

// parentOf is the path of the directory holding path ("" for the root's
// children).
func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	return path[:i]
}

// baseName is the last element of path.
func baseName(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}

// joinPath is the path of name in the directory dir.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// linkCount is a plan's link count as i_links_count; the plan never asks
// for more than ext4's limit (dir_nlink gives big directories 1).
func linkCount(n uint32) uint16 {
	if n > math.MaxUint16 {
		return 1
	}
	return uint16(n)
}
