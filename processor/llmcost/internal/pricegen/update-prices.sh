#!/usr/bin/env bash
# make update-prices: bring the newest genai-prices data into the repository.
#
#   1. npm pack the newest @pydantic/genai-prices (or GENAI_PRICES_VERSION) from the npm
#      registry and unpack it in a temporary directory;
#   2. extract the data it bundles (extract.mjs) into third_party/genai-prices/data.json,
#      with its LICENSE and source.json (version, publication time, integrity);
#   3. regenerate processor/llmcost/internal/pricing/table.json, whose pricing_version is
#      the package's publication date;
#   4. print what changed for the mainstream providers.
# Review the printed changes, run the llm_cost tests (golden costs follow the prices),
# and commit third_party/genai-prices and table.json together.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
root=$PWD
pkg=@pydantic/genai-prices
dest=third_party/genai-prices
table=processor/llmcost/internal/pricing/table.json

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=${GENAI_PRICES_VERSION:-$(npm view "$pkg" version)}
echo "update-prices: $pkg@$version"
npm view "$pkg@$version" time --json >"$tmp/time.json"
(cd "$tmp" && npm pack "$pkg@$version" --json >pack.json 2>/dev/null)
tarball=$(node -e 'console.log(require(process.argv[1])[0].filename)' "$tmp/pack.json")
integrity=$(node -e 'console.log(require(process.argv[1])[0].integrity)' "$tmp/pack.json")
published=$(node -e 'const t=require(process.argv[1])[process.argv[2]]; if(!t) process.exit(1); console.log(new Date(t).toISOString().replace(/\.\d+Z$/,"Z"))' "$tmp/time.json" "$version")
tar -xzf "$tmp/$tarball" -C "$tmp"

mkdir -p "$dest"
node processor/llmcost/internal/pricegen/extract.mjs "$tmp/package" "$dest/data.json"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
cat >"$dest/source.json" <<EOF
{
  "package": "$pkg",
  "version": "$version",
  "published": "$published",
  "integrity": "$integrity"
}
EOF

cp "$table" "$tmp/old-table.json"
(cd processor/llmcost && go run ./internal/pricegen -out internal/pricing/table.json -diff "$tmp/old-table.json")
echo
echo "update-prices: wrote $dest/{data.json,LICENSE,source.json} and $table"
echo "update-prices: now run: go test ./processor/llmcost/... (golden costs follow the prices) and commit both"
cd "$root"
