#!/usr/bin/env bash
# Fails when the committed mdatagen output differs from what `make generate` produces.
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot() {
  find . -path ./_build -prune -o -path ./.git -prune -o -type f \
    \( -name 'generated_*.go' -o -path '*/internal/metadata/*' -o -name 'documentation.md' \) -print0 |
    sort -z | xargs -0 -r sha256sum
}
before=$(snapshot)
make --no-print-directory generate >/dev/null
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "check-generated: generated code was out of date; it has been regenerated, review and commit it:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "check-generated: generated code is up to date"
