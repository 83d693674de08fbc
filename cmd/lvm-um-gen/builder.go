package main

import (
	"context"
	"errors"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

// newEngineBuilder returns the Builder the CLI uses.
//
// TODO(integrator): return an adapter over the ext4sync engine here (open
// the base through ext4sync/overlay onto req.ImagePath, read req.RootfsPath
// with ext4sync/source/dirsource, sync, flush, and report file counts and
// contributors). Until then generate and estimate fail with exit code 1.
func newEngineBuilder() generator.Builder { return engineBuilder{} }

type engineBuilder struct{}

var errEngineMissing = errors.New("the ext4sync engine is not wired into this build yet")

func (engineBuilder) Build(ctx context.Context, req generator.BuildRequest) (*generator.BuildResult, error) {
	return nil, errEngineMissing
}
