#!/usr/bin/env bash
# Runs `otelcol-procode validate` on every collector configuration under config/:
# full configurations on their own, overlays (config/overlays/) merged onto the default.
set -euo pipefail
bin=${1:?usage: validate-configs.sh path/to/otelcol-procode}
cd "$(dirname "$0")/.."

# Values for the variables that examples require, so that validation sees a complete config.
export SENTRY_DSN=${SENTRY_DSN:-https://publickey@127.0.0.1:9/1}
export OTLP_TRACES_ENDPOINT=${OTLP_TRACES_ENDPOINT:-127.0.0.1:14317}
# config/examples/procode-stack.yaml (placeholders: validation connects to nothing)
export PROCODE_DB_PASSWORD=${PROCODE_DB_PASSWORD:-validate-placeholder}
export OPENAI_API_KEY=${OPENAI_API_KEY:-sk-validate-placeholder}

status=0
check() {
  local label=$1; shift
  if out=$("$bin" validate "$@" 2>&1); then
    echo "validate: ok    $label"
  else
    echo "validate: FAIL  $label"; echo "$out" | sed 's/^/    /'
    status=1
  fi
}

while IFS= read -r f; do
  case "$f" in
    config/overlays/*) check "$f (on config/otelcol.yaml)" --config=config/otelcol.yaml --config="$f" ;;
    *) grep -q '^service:' "$f" && check "$f" --config="$f" ;;
  esac
done < <(find config -name '*.yaml' -not -path 'config/kubernetes/*' -not -path 'config/prometheus/*' \
  -not -path 'config/alertmanager/*' -not -path 'config/grafana/*' -not -path 'config/compose/*' | sort)

# The embedded default runs when no --config is given.
check "embedded default (no --config)"
exit $status
