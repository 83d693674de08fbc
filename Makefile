# lvm-um-gen: pure Go, no cgo. mender-artifact must be built with nopkcs11,
# or it pulls in cgo OpenSSL.
GO      ?= go
TAGS    := nopkcs11
BIN     := bin/lvm-um-gen
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
export CGO_ENABLED := 0

.PHONY: all build module test vet fmt-check demo bench fuzz e2e torture clean

all: build

build:
	$(GO) build -tags $(TAGS) -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/lvm-um-gen

vet:
	$(GO) vet -tags $(TAGS) ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The whole test suite. Tests that need e2fsprogs (mkfs.ext4, e2fsck,
# debugfs) or the mender-artifact CLI skip when those are missing locally;
# CI (.ci/run) installs them so nothing is skipped there.
# Scratch files (generated source trees, images) go to a tmpfs when one
# with 2 GiB free is writable (TEST_TMPDIR= keeps TMPDIR): the tests create
# tens of thousands of small files and write hundreds of images, which cost
# 2 to 20 times more on a disk-backed ext4 /tmp, the more the busier the
# disk (10,000 creates: 0.27 to 4.7 s there, 0.11 to 0.28 s on /dev/shm).
# Back to back on 2 shared cores: make test 115 s with /tmp, 75 s here.
# The tests and what they check are the same either way.
# -vet=off: the vet prerequisite already ran every analyzer go test's own
# vet pass would (a subset) on the same packages and test files; on a cold
# build cache the second pass cost 11 CPU-s (go test -run '^$' ./... after
# go vet: 47.5 CPU-s, 36.3 with -vet=off).
TEST_TMPDIR ?= $(shell d=/dev/shm; [ -d $$d ] && [ -w $$d ] && \
	[ "$$(df -Pk $$d 2>/dev/null | awk 'NR==2 {print $$4}')" -ge 2097152 ] 2>/dev/null && echo $$d)
test: fmt-check vet
	@tmp=$$(mktemp -d -p "$(if $(TEST_TMPDIR),$(TEST_TMPDIR),$${TMPDIR:-/tmp})" lvm-um-gen-test.XXXXXX) || exit 1; \
	trap 'rm -rf "$$tmp"' EXIT; \
	echo "TMPDIR=$$tmp $(GO) test -tags $(TAGS) -vet=off -count=1 -timeout 20m ./..."; \
	TMPDIR=$$tmp $(GO) test -tags $(TAGS) -vet=off -count=1 -timeout 20m ./...

# The device-side update module, static, for the three device
# architectures (README: "On the device").
MODULE_ARCHES := amd64 arm64 arm
module:
	@for arch in $(MODULE_ARCHES); do \
		GOOS=linux GOARCH=$$arch GOARM=7 $(GO) build -tags $(TAGS) -trimpath \
			-ldflags "-s -w -X main.version=$(VERSION)" -o bin/lvm-um-linux-$$arch ./cmd/lvm-um || exit 1; \
	done
	@ls -l $(addprefix bin/lvm-um-linux-,$(MODULE_ARCHES))

demo: build
	./testdata/demo/run.sh $(BIN)

# The release benchmark (needs e2fsprogs; the rsync --inplace row needs root,
# loop devices and rsync). BENCHFLAGS=-quick for a smoke run, -markdown for
# the README's table, -scale/-seed/-work as the command's -h says.
BENCHFLAGS ?=
bench: build
	$(GO) run -tags $(TAGS) ./blockmap/cmd/releasebench -bin $(BIN) $(BENCHFLAGS)

# The real-kernel end-to-end test of the device side (issue 9): QEMU (TCG)
# boots Debian's kernel with an initramfs built at test time from this host's
# busybox-static, lvm2, mender-client 3.4 and the update module
# (bin/lvm-um-linux-amd64), and runs mender install/commit/rollback across
# real reboots. Needs no root; .ci/e2e-deps.sh installs the Debian packages
# and unpacks the kernel. LVMUM_E2E_WORK=DIR keeps the work files;
# LVMUM_E2E_VERBOSE=1 prints every boot's console.
E2E_TIMEOUT ?= 15m
e2e: build
	$(MAKE) --no-print-directory module MODULE_ARCHES=amd64
	LVMUM_E2E=1 $(GO) test -tags $(TAGS) -count=1 -timeout $(E2E_TIMEOUT) -v ./cmd/lvm-um/e2e/

# The corruption harness of issue 13 at length: TORTURE_RUNS bases damaged
# in one metadata block each (checksums kept valid), generate run on each;
# prints the counts the README reports. make test runs 100 of them.
TORTURE_RUNS ?= 1000
torture:
	LVMUM_TORTURE_RUNS=$(TORTURE_RUNS) $(GO) test -tags $(TAGS) -count=1 -v -run '^TestTorture$$' -timeout 180m ./cmd/lvm-um-gen/

# Short, bounded fuzzing of every fuzz target (CI runs this too).
FUZZTIME ?= 20s
fuzz:
	./.ci/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin out
