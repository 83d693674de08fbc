// Command releasegen writes a deterministic base/next rootfs pair (see
// package releasegen) into two directories, for the demo and benchmarks.
//
//	go run ./blockmap/cmd/releasegen -scale 0.02 -kind patch -base v1 -next v2
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
)

func main() {
	seed := flag.Uint64("seed", 1, "seed of the pair")
	scale := flag.Float64("scale", 1, "file-count scale (1 = ~10k files, ~200 MiB)")
	kind := flag.String("kind", "patch", "release kind: patch or noop")
	baseDir := flag.String("base", "", "directory to write the base release into (must not exist)")
	nextDir := flag.String("next", "", "directory to write the next release into (must not exist)")
	flag.Parse()
	if *baseDir == "" || *nextDir == "" {
		fmt.Fprintln(os.Stderr, "releasegen: -base and -next are required")
		os.Exit(2)
	}
	base, next, err := releasegen.Pair(releasegen.Config{Seed: *seed, Scale: *scale}, *kind)
	if err == nil {
		err = base.Write(*baseDir)
	}
	if err == nil {
		err = next.Write(*nextDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("base: %d paths, %d bytes; next: %d paths, %d bytes\n", len(base.Files), base.Size(), len(next.Files), next.Size())
}
