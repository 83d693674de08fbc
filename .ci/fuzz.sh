#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short, bounded time.
# Usage: .ci/fuzz.sh [DURATION]   (default 10s per target)
# A crasher fails the run; go test writes it to the package's
# testdata/fuzz/FuzzX/ directory, where it becomes a regular test case once
# committed.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-10s}
export CGO_ENABLED=0
status=0
for pkg in $(go list -tags nopkcs11 ./...); do
	dir=$(go list -tags nopkcs11 -f '{{.Dir}}' "$pkg")
	targets=$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for t in $targets; do
		echo "== fuzz $pkg $t ($time)"
		if ! go test -tags nopkcs11 -run '^$' -fuzz "^${t}\$" -fuzztime "$time" "$pkg"; then
			status=1
		fi
	done
done
exit $status
