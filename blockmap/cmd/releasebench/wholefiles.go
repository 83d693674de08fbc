package main

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"path"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
)

// wholeFileBlocks is the new data when every new or changed regular file
// is written whole (relocated), in blocks of bs bytes: the D of the
// "whole files packed" row (see lowerBoundNote).
func wholeFileBlocks(base, next *releasegen.Release, bs int64) int64 {
	freed := freedBlocks(base, next, bs)
	oldDirs, newDirs := entries(base), entries(next)
	var n int64
	for _, nf := range next.Files {
		of := base.Lookup(nf.Path)
		switch nf.Kind {
		case releasegen.Regular:
			nc := nf.Content()
			if of == nil || of.Kind != nf.Kind || !bytes.Equal(of.Content(), nc) {
				n += newBlocks(nc, bs, freed)
			}
		case releasegen.Symlink:
			if len(nf.Target) >= fastSymlinkMax && (of == nil || of.Kind != nf.Kind || of.Target != nf.Target) {
				n++
			}
		case releasegen.Dir:
			if of == nil || of.Kind != nf.Kind || oldDirs[of.Path] != newDirs[nf.Path] {
				n++
			}
		}
	}
	return n
}

// fastSymlinkMax is the shortest target that needs a data block.
const fastSymlinkMax = 60

// newBlocks counts the non-zero blocks of c that are not in freed.
func newBlocks(c []byte, bs int64, freed map[uint64]bool) int64 {
	var n int64
	zero := make([]byte, bs)
	for off := int64(0); off < int64(len(c)); off += bs {
		b := c[off:min(off+bs, int64(len(c)))]
		if !bytes.Equal(b, zero[:len(b)]) && !freed[blockHash(b)] {
			n++
		}
	}
	return n
}

// freedBlocks hashes every block of the base's regular files that the new
// tree removes (path gone or no longer a regular file).
func freedBlocks(base, next *releasegen.Release, bs int64) map[uint64]bool {
	set := map[uint64]bool{}
	for _, of := range base.Files {
		if of.Kind != releasegen.Regular {
			continue
		}
		if nf := next.Lookup(of.Path); nf != nil && nf.Kind == releasegen.Regular {
			continue
		}
		c := of.Content()
		for off := int64(0); off < int64(len(c)); off += bs {
			set[blockHash(c[off:min(off+bs, int64(len(c)))])] = true
		}
	}
	return set
}

// blockHash is a block's FNV-1a hash (deterministic across runs).
func blockHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// entries maps every directory to a fingerprint of its entries (names and
// kinds), so directories whose entries change can be found.
func entries(r *releasegen.Release) map[string]string {
	names := map[string][]string{}
	for _, f := range r.Files {
		parent := path.Dir(f.Path)
		if parent == "." {
			parent = ""
		}
		names[parent] = append(names[parent], fmt.Sprintf("%s/%d", path.Base(f.Path), f.Kind))
	}
	out := make(map[string]string, len(names))
	for dir, ns := range names {
		sort.Strings(ns)
		out[dir] = fmt.Sprint(ns)
	}
	return out
}
