#!/usr/bin/env bash
# make fuzz-short: each target (pkg:FuzzName) for FUZZTIME from its committed seed corpus,
# in a fresh cache directory so that every run does the same work.
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded" when -fuzztime
# runs out while a worker is mid-call (go.dev/issue/75804, fixed in Go 1.27). A real
# finding always writes its input ("Failing input written to testdata/fuzz/..."), so a
# failure with that line, or with any other failure text, fails the run at once; only the
# bare deadline message is run again, once.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-8s}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

run() { # pkg name log
  "$GO" test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 100x "$1" \
    -args -test.fuzzcachedir="$cache/$2" 2>&1 | tee "$3"
  return "${PIPESTATUS[0]}"
}

# deadline_only: the run failed with nothing but the coordinator's deadline message.
deadline_only() {
  grep -q 'context deadline exceeded' "$1" &&
    ! grep -q -e 'Failing input written' -e 'panic:' -e '_test.go:[0-9]' "$1"
}

for t in "$@"; do
  pkg=${t%%:*} name=${t##*:} log="$cache/$name.log"
  echo "fuzz $name in $pkg for $FUZZTIME"
  if run "$pkg" "$name" "$log"; then continue; fi
  if deadline_only "$log"; then
    echo "fuzz $name: bare 'context deadline exceeded' with no failing input (go.dev/issue/75804); running it again"
    run "$pkg" "$name" "$log" && continue
  fi
  echo "fuzz $name failed" >&2
  exit 1
done
