#!/usr/bin/env bash
# Measures the CPU and memory of otelcol-procode running 200 HTTP probes every 10s
# against a local server, next to blackbox_exporter probing the same 200 targets
# (driven by Prometheus, which scrapes /probe for each target every 10s). Variants of
# the collector: as shipped (fresh connection per run, Prometheus exporter scraped every
# 10s), with keep-alive connections, with the debug exporter instead (the receiver's own
# cost), and a baseline with a single memory probe.
#
#   receiver/healthprobe/bench/bench.sh [seconds to measure, default 300]
#
# Needs: make build (the binary), prometheus and prometheus-blackbox-exporter (apt).
# Prints one line per process: CPU as a share of one core over the window, RSS at the
# end and its peak (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/../../.."
measure=${1:-300}
warmup=30
probes=200
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bin=_build/otelcol-procode
[ -x "$bin" ] || { echo "bench: build first: make build" >&2; exit 1; }
bb=$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter)
prom=$(command -v prometheus)

go build -o "$work/target" ./receiver/healthprobe/bench/target
"$work/target" -addr 127.0.0.1:18080 & pids+=($!)

# collector_config PORT EXPORTER [PROBE_EXTRA]: 200 HTTP probes (distinct paths) at 10s.
collector_config() {
  local port=$1 exporter=$2 extra=${3:-}
  echo "receivers:"
  echo "  health_probe:"
  echo "    collection_interval: 10s"
  echo "    probes:"
  for i in $(seq 0 $((probes - 1))); do
    echo "      - {name: target_$i, type: http, endpoint: \"http://127.0.0.1:18080/t/$i\"$extra}"
  done
  cat <<YAML
exporters:
  prometheus:
    endpoint: 127.0.0.1:$port
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [health_probe]
      exporters: [$exporter]
YAML
}
# As shipped: a fresh connection per run, metrics on the Prometheus exporter.
collector_config 18889 prometheus > "$work/collector.yaml"
# The same with keep-alive connections reused between runs.
collector_config 18891 prometheus ", keepalive: {enabled: true}" > "$work/keepalive.yaml"
# The receiver alone: the debug exporter writes one log line per round.
collector_config 18892 debug > "$work/receiver-only.yaml"
# Baseline: the collector with one memory probe.
sed -e '/- {name: target_/d' -e 's/^    probes:$/    probes:\n      - {name: memory, type: memory}/' \
  -e 's/18889/18890/' "$work/collector.yaml" > "$work/baseline.yaml"

cat > "$work/blackbox.yml" <<'YAML'
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
YAML

{
  cat <<YAML
global:
  scrape_interval: 10s
  scrape_timeout: 5s
scrape_configs:
  - job_name: collector
    static_configs: [{targets: ["127.0.0.1:18889", "127.0.0.1:18890", "127.0.0.1:18891"]}]
  - job_name: blackbox
    metrics_path: /probe
    params: {module: [http_2xx]}
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: "127.0.0.1:19115"}
    static_configs:
      - targets:
YAML
  for i in $(seq 0 $((probes - 1))); do echo "          - http://127.0.0.1:18080/t/$i"; done
} > "$work/prometheus.yml"

"$bin" --config="$work/collector.yaml" > "$work/collector.log" 2>&1 & col=$!; pids+=($col)
"$bin" --config="$work/baseline.yaml" > "$work/baseline.log" 2>&1 & base=$!; pids+=($base)
"$bin" --config="$work/keepalive.yaml" > "$work/keepalive.log" 2>&1 & ka=$!; pids+=($ka)
"$bin" --config="$work/receiver-only.yaml" > "$work/receiver-only.log" 2>&1 & ro=$!; pids+=($ro)
"$bb" --config.file="$work/blackbox.yml" --web.listen-address=127.0.0.1:19115 > "$work/bb.log" 2>&1 & bbp=$!; pids+=($bbp)
"$prom" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address=127.0.0.1:19090 > "$work/prom.log" 2>&1 & pids+=($!)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

echo "bench: warming up ${warmup}s, then measuring ${measure}s"
sleep "$warmup"
declare -A t0
for p in $col $ka $ro $base $bbp; do t0[$p]=$(ticks "$p"); done
start=$(date +%s.%N)
sleep "$measure"
end=$(date +%s.%N)
report() {
  local name=$1 p=$2
  local dt; dt=$(( $(ticks "$p") - ${t0[$p]} ))
  awk -v n="$name" -v d="$dt" -v hz="$hz" -v s="$start" -v e="$end" -v r="$(rss "$p")" -v h="$(hwm "$p")" \
    'BEGIN { printf "%-48s cpu %6.3f%% of one core   rss %6.1f MiB   peak rss %6.1f MiB\n", n, d / hz / (e - s) * 100, r / 1024, h / 1024 }'
}
report "otelcol-procode, 200 http probes @10s" "$col"
report "otelcol-procode, same, keepalive enabled" "$ka"
report "otelcol-procode, same, debug exporter only" "$ro"
report "otelcol-procode, 1 memory probe (baseline)" "$base"
report "blackbox_exporter, 200 targets @10s" "$bbp"
# Sanity: both sides actually probed.
up=$(curl -s 127.0.0.1:18889/metrics | grep -c '^healthprobe_up{.*} 1$' || true)
bbok=$(curl -s '127.0.0.1:19090/api/v1/query?query=count(probe_success==1)' | sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)".*/\1/p')
echo "bench: healthprobe_up == 1 for $up of $probes probes; blackbox probe_success == 1 for ${bbok:-?} of $probes targets"
