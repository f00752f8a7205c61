#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the repository, one after another, each for FUZZTIME with
# FUZZPARALLEL workers; make fuzz runs it, e.g. make fuzz FUZZTIME=5m FUZZPARALLEL=1. The targets are
# found in the sources (every func Fuzz… in a *_test.go file), so a new one is fuzzed without being
# listed anywhere. A failing input is written to testdata/fuzz/<Target>/ in its package: commit it with
# the fix, and make unit (so make test) runs it from then on, with every other seed. Minimizing an
# interesting input runs up to FUZZMINIMIZETIME, and to the limit when the input's coverage varies from
# run to run (map order makes it vary in the stream decoding), so Go's default of 60s would leave a short
# run little time to fuzz. A target that ends with "context deadline exceeded" and writes no input met
# Go's fuzztime race (go.dev/issue/75804): it is reported, not failed. Packages whose tests use DynamoDB
# Local start it in each fuzzing process (make fuzz installs it first).
#
# Environment, with its defaults:
#   FUZZTIME          30s                  how long each target is fuzzed (go test -fuzztime)
#   FUZZPARALLEL      the number of CPUs   fuzzing workers per target (go test -parallel)
#   FUZZMINIMIZETIME  10s                  go test -fuzzminimizetime
#   GO                go                   the go command
# It exits 1 when a target failed (or none was found), 0 otherwise.
set -euo pipefail

FUZZTIME=${FUZZTIME:-30s}
FUZZPARALLEL=${FUZZPARALLEL:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
GO=${GO:-go}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Every target as <package dir>:<FuzzName>, e.g. ./internal/cursor:FuzzDecode.
targets=$(grep -rEo --include='*_test.go' --exclude-dir=.local --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*\(' . |
  sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($|\1:\2|' | sort) || true
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found"; exit 1; }

# corpus lists a target's stored inputs, nothing when it has none.
corpus() { ls "$1" 2>/dev/null || true; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=
raced=
n=0
for t in $targets; do
  dir=${t%%:*}
  target=${t##*:}
  dir_corpus=$dir/testdata/fuzz/$target
  before=$(corpus "$dir_corpus")
  n=$((n + 1))
  echo "fuzz: $target ($dir) for $FUZZTIME"
  if ! "$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" \
      -parallel "$FUZZPARALLEL" -timeout 0 "$dir" </dev/null 2>&1 | tee "$log"; then
    if [ "$(corpus "$dir_corpus")" = "$before" ] && grep -q 'context deadline exceeded' "$log"; then
      raced="$raced $target"
    else
      failed="$failed $target"
    fi
  fi
done
[ -z "$raced" ] || echo "fuzz: ended by Go's fuzztime race, no failing input (go.dev/issue/75804):$raced"
[ -z "$failed" ] || { echo "fuzz: FAILED:$failed; the failing inputs are under testdata/fuzz/ in their packages"; exit 1; }
echo "fuzz: $n targets, $FUZZTIME each, no failing input"
