#!/usr/bin/env bash
# Runs every test: lint, then unit and integration tests against a real
# MariaDB and a real Kafka. Servers that were not running are started here
# and stopped again (by PID) at the end; running ones are left as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory lint
started=()
bash scripts/mariadb.sh status >/dev/null 2>&1 || started+=(mariadb)
bash scripts/kafka.sh status >/dev/null 2>&1 || started+=(kafka)
cleanup() { for s in "${started[@]}"; do bash "scripts/$s.sh" stop || true; done; }
[ "${KEEP_INFRA:-}" = 1 ] || trap cleanup EXIT
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
log=$(mktemp)
set +e
go test -race -count=1 -timeout 25m ./... 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -c '^ok ' "$log" || true)
failed=$(grep -c '^FAIL' "$log" || true)
rm -f "$log"
echo "packages: $passed passed, $failed failed"
exit "$status"
