#!/usr/bin/env bash
# Makes sure the system packages that the test suite's real servers come from are
# installed: installs them with apt when running as root, else names what is missing.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [promtool]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# PostgreSQL server binaries live outside PATH on Debian.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi

# The real sentry-python SDK, the reference for Python grouping parity
# (exporter/sentryerrors/reference_python_test.go), for Debian's own python3.
if ! /usr/bin/python3 -c 'import sentry_sdk' >/dev/null 2>&1; then
  missing+=(python3-sentry-sdk)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start their services; the tests run their own instances.
  for svc in postgresql prometheus prometheus-alertmanager prometheus-blackbox-exporter; do
    (service "$svc" stop || systemctl stop "$svc") >/dev/null 2>&1 || true
  done
  exit 0
fi
echo "test-deps: the test suite needs these packages: ${missing[*]}" >&2
echo "test-deps: install them (for example: sudo apt-get install -y ${missing[*]}) and run make test again" >&2
exit 1
