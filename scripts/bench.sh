#!/usr/bin/env bash
# Prints the benchmark table: encoders (go test -bench) and the incremental
# stream end to end against real MariaDB and Kafka, beside its ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
export MARIADB_HOST MARIADB_PORT MARIADB_USER MARIADB_PASSWORD KAFKA_BROKERS
go build -o bin/dts ./cmd/dts

echo "== encoders (one core)"
go test -run '^$' -bench 'Encode|AppendValue' -benchmem -cpu 1 ./internal/format/... \
  | awk '/^Benchmark/ {printf "  %-50s %12s ns/op %10s rows/s %6s allocs/op\n", $1, $3, sprintf("%.0f", 1e9/$3), $7}'

echo "== incremental stream (${BENCH_INSERTS:-1000000} inserts, ${BENCH_UPDATES:-200000} updates, ${BENCH_DELETES:-100000} deletes)"
go run ./tools/bench -inserts "${BENCH_INSERTS:-1000000}" -updates "${BENCH_UPDATES:-200000}" -deletes "${BENCH_DELETES:-100000}"
