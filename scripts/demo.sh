#!/usr/bin/env bash
# make demo: the collector with the default config, fed by the load generator at a gentle
# rate, so that LLM cost, agent and probe series show up on /metrics within a minute.
set -euo pipefail
bin=${1:?usage: demo.sh path/to/otelcol-procode}
cd "$(dirname "$0")/.."

"$bin" --config config/otelcol.yaml > _build/demo-collector.log 2>&1 &
collector=$!
trap 'kill $collector 2>/dev/null; wait $collector 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  curl -fsS "http://${READINESS_ENDPOINT:-localhost:13133}/ready" >/dev/null 2>&1 && break
  kill -0 $collector 2>/dev/null || { echo "demo: the collector exited; see _build/demo-collector.log" >&2; exit 1; }
  sleep 0.2
done
cat <<MSG
demo: collector running (log: _build/demo-collector.log); sending ${DEMO_RATE:-200} spans/s of agent traces.
demo: in another terminal:
  curl -s localhost:8889/metrics | grep -E 'gen_ai|llm|agent|healthprobe|traces_span_metrics_calls'
  curl -s localhost:13133/health
demo: Ctrl-C stops both.
MSG
go run ./cmd/loadgen -endpoint "${OTLP_GRPC_ENDPOINT:-localhost:4317}" -rate "${DEMO_RATE:-200}" -duration "${DEMO_DURATION:-24h}" -batch 50 -conns 1
