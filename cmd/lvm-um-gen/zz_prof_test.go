package main

import (
	"bytes"
	"context"
	"os"
	"runtime/pprof"
	"testing"
)

func TestZZProf(t *testing.T) {
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, newBuilder: newEngineBuilder, getenv: func(string) string { return "" }}
	code := a.run(context.Background(), []string{"estimate", "--base", "/work/tmp/hostile/x/base.ext4", "--rootfs", "/work/tmp/hostile/x/root2", "--write-unit", os.Getenv("W")})
	t.Log(code, stderr.String())
	f, _ := os.Create("/work/tmp/hostile/heap.prof")
	pprof.Lookup("allocs").WriteTo(f, 0)
	f.Close()
}
