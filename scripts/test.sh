#!/usr/bin/env bash
# Runs every test: lint, then unit and integration tests against a real
# MariaDB and a real Kafka, both started here if they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory lint
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
export MARIADB_HOST MARIADB_PORT MARIADB_USER MARIADB_PASSWORD KAFKA_BROKERS
go test -race -count=1 -timeout 25m ./... 2>&1 | tee /tmp/opendts-test.$$.log
status=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' /tmp/opendts-test.$$.log || true)
failed=$(grep -c '^FAIL' /tmp/opendts-test.$$.log || true)
rm -f /tmp/opendts-test.$$.log
echo "packages: $passed passed, $failed failed"
exit "$status"
