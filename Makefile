# otelcol-procode: build, run and test the collector distribution.
#
#   make run     build (if out of date) and run with config/otelcol.yaml
#   make test    the whole suite: vet, unit tests with -race, generated-code freshness,
#                config validation, end-to-end tests against the built binary
#   make build   build _build/otelcol-procode with ocb
#   make generate  regenerate mdatagen code
#   make bench   Go microbenchmarks with -benchmem, summarised with benchstat
#   make fuzz-short  every fuzz target for FUZZTIME (default 8s); part of make test
#   make update-prices  newest genai-prices data from npm into third_party/, llm_cost's table regenerated

SHELL  := /bin/bash
GO     ?= go
BIN    := _build/otelcol-procode
CONFIG ?= config/otelcol.yaml
MODULE := github.com/procode-ai/otelcol-procode

# Everything the binary is built from: a change to any of these rebuilds it.
BUILD_INPUTS := builder-config.yaml go.mod go.sum config/otelcol.yaml distribution/embedded_config.go \
	$(shell find . -path ./_build -prune -o -name '*.go' ! -name '*_test.go' -print)

.PHONY: all run demo bench-probes build test tools test-deps node-deps vet unit fuzz-short check-generated validate-configs e2e generate bench clean update-prices

all: build

tools:
	@$(GO) mod download
	@$(GO) tool builder version >/dev/null
	@$(GO) tool mdatagen --help >/dev/null 2>&1 || true

$(BIN): $(BUILD_INPUTS)
	@$(MAKE) --no-print-directory tools
	$(GO) tool builder --config builder-config.yaml --skip-compilation
	cp distribution/embedded_config.go config/otelcol.yaml _build/
	cd _build && $(GO) build -trimpath -ldflags='-s -w' -tags procode_dist -o otelcol-procode .
	@touch $(BIN)

build: $(BIN)

run: build
	$(BIN) --config $(CONFIG)

# The collector with the default config and the load generator at a gentle rate.
demo: build
	@scripts/demo.sh $(BIN)

test: test-deps node-deps vet unit fuzz-short check-generated build validate-configs e2e
	@echo "make test: all passed"

# The npm test packages (tests/node/<area>/, each pinned by its package-lock.json), installed
# with npm ci; a directory whose lockfile is unchanged since its last install is skipped
# (the stamp under node_modules holds the lockfile's checksum).
NODE_DIRS := $(patsubst %/package-lock.json,%,$(wildcard tests/node/*/package-lock.json))
node-deps:
	@for d in $(NODE_DIRS); do \
		sum=$$(sha256sum $$d/package-lock.json | cut -d' ' -f1); \
		if [ "$$(cat $$d/node_modules/.lockfile-stamp 2>/dev/null)" = "$$sum" ]; then continue; fi; \
		echo "npm ci in $$d"; \
		(cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
		echo $$sum > $$d/node_modules/.lockfile-stamp; \
	done

# System packages (PostgreSQL, promtool, amtool, ...) the suite's real servers need.
test-deps:
	@scripts/test-deps.sh

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './_build/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...

UNIT_PKGS = $(shell $(GO) list ./... | grep -v '^$(MODULE)/tests$$')

unit:
	$(GO) test -race -count=1 -timeout 15m $(UNIT_PKGS)

# Every fuzz target for a few seconds, starting from its committed seed corpus
# (testdata/fuzz/<target>, which `unit` already runs as plain tests) in a fresh cache
# directory, so that each run takes the same time however often it ran before. A
# failure leaves the failing input in testdata/fuzz/<target>.
# tests/reliability_docs_test.go checks that every Fuzz function is listed here.
FUZZTIME ?= 8s
FUZZ_TARGETS := \
	./processor/llmcost:FuzzProcess \
	./processor/llmcost/internal/pricing:FuzzParseFile \
	./exporter/sentryerrors/internal/stacktrace:FuzzParse \
	./exporter/sentryerrors:FuzzThrottleDelay \
	./receiver/healthprobe:FuzzBodyCheck \
	./connector/agentmetrics:FuzzConsumeTraces \
	./internal/safetext:FuzzClean

fuzz-short:
	@GO="$(GO)" FUZZTIME="$(FUZZTIME)" scripts/fuzz-short.sh $(FUZZ_TARGETS)

check-generated:
	@scripts/check-generated.sh

validate-configs: build
	@scripts/validate-configs.sh $(BIN)

e2e: build
	OTELCOL_BIN=$(abspath $(BIN)) $(GO) test -count=1 -timeout 20m ./tests/...

generate:
	@for f in $$(git ls-files --cached --others --exclude-standard '*metadata.yaml'); do \
		echo "mdatagen $$f"; (cd $$(dirname $$f) && $(GO) tool mdatagen metadata.yaml) || exit 1; \
	done

# make update-prices: npm pack the newest @pydantic/genai-prices, extract its data into
# third_party/genai-prices/, regenerate llm_cost's embedded table and print what changed
# for the mainstream providers (GENAI_PRICES_VERSION=x.y.z for another version).
update-prices:
	@processor/llmcost/internal/pricegen/update-prices.sh

# make bench: Go microbenchmarks of every hot path, then the end-to-end comparison of
# three pipelines and sentry_errors alone on the built binary (tests/bench), each
# summarised with benchstat.
# Results: _bench/*.txt (benchstat tables) and _bench/*.csv (machine-readable).
BENCH_COUNT ?= 6
E2E_BENCH_COUNT ?= 3
BENCH_PKGS = $(shell $(GO) list ./... | grep -v '^$(MODULE)/tests')
bench: build
	@mkdir -p _bench
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) $(BENCH_PKGS) | tee _bench/go-bench.txt
	$(GO) tool benchstat _bench/go-bench.txt | tee _bench/go-bench-summary.txt
	$(GO) tool benchstat -format csv _bench/go-bench.txt > _bench/go-bench.csv
	OTELCOL_BIN=$(abspath $(BIN)) $(GO) test -run '^$$' -bench 'BenchmarkPipeline|BenchmarkSentryErrors' -benchtime 1x -count $(E2E_BENCH_COUNT) -timeout 60m ./tests/bench/ | tee _bench/e2e-bench.txt
	$(GO) tool benchstat _bench/e2e-bench.txt | tee _bench/e2e-bench-summary.txt
	$(GO) tool benchstat -format csv _bench/e2e-bench.txt > _bench/e2e-bench.csv
	$(GO) run ./cmd/benchtable _bench/e2e-bench.txt | tee _bench/e2e-table.md

# 200 HTTP probes at a 10s interval, beside blackbox_exporter probing the same targets
# (receiver/healthprobe/bench/bench.sh; PROBE_BENCH_SECONDS of measurement per process).
PROBE_BENCH_SECONDS ?= 120
bench-probes: build
	@mkdir -p _bench
	receiver/healthprobe/bench/bench.sh $(PROBE_BENCH_SECONDS) | tee _bench/probes.txt

clean:
	rm -rf _build _bench
