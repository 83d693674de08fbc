package tarsource

import (
	"fmt"
	"strings"
)

// maxNameLen is the longest file name ext4 stores (EXT4_NAME_LEN).
const maxNameLen = 255

// cleanPath turns an archive name into a tree path: "./" prefixes, "."
// and empty components (doubled or trailing slashes) are dropped, so "./",
// "." and "" all name the root (""). Absolute paths, ".." components and
// over-long components are refused.
func cleanPath(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", ErrAbsolute
	}
	parts := strings.Split(name, "/")
	out := parts[:0]
	for _, p := range parts {
		switch {
		case p == "" || p == ".":
			continue
		case p == "..":
			return "", ErrDotDot
		case len(p) > maxNameLen:
			return "", fmt.Errorf("%w: component is %d bytes, ext4 allows %d", ErrNameTooLong, len(p), maxNameLen)
		}
		out = append(out, p)
	}
	return strings.Join(out, "/"), nil
}

// parentOf is the tree path of the directory holding path ("" for the
// root's children).
func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	return path[:i]
}

// display names a tree path in messages; the root reads as "/".
func display(path string) string {
	return "/" + path
}
