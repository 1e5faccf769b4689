#!/usr/bin/env bash
# The demo: starts a local MariaDB and Kafka if absent, creates a sample
# schema, runs a task, makes a few changes and prints the Kafka messages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
make --no-print-directory build >/dev/null

work=$(mktemp -d /tmp/opendts-demo.XXXXXX)
topic="demo_$(date +%s)"
sql() { mariadb -h"$MARIADB_HOST" -P"$MARIADB_PORT" -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" "$@"; }

echo "== sample schema: shop.orders"
sql -e "CREATE DATABASE IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.orders (
  id BIGINT PRIMARY KEY, status VARCHAR(32) NOT NULL, amount DECIMAL(10,2),
  created_at DATETIME(3), note VARCHAR(255) NULL)"

sed -e "s/@TOPIC@/$topic/" -e "s#@DIR@#$work#" -e "s/@PORT@/$MARIADB_PORT/" \
    -e "s/@BROKERS@/$KAFKA_BROKERS/" examples/demo-task.yaml > "$work/task.yaml"
echo "== task file: $work/task.yaml"
cat "$work/task.yaml"

echo "== starting: bin/dts run -f $work/task.yaml (log: $work/dts.log)"
bin/dts run -f "$work/task.yaml" > "$work/dts.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q 'starting\|resuming' "$work/dts.log" && break; sleep 0.1; done
sleep 1

echo "== changes on the source"
id=$(( $(date +%s) % 1000000 * 10 ))
sql shop -e "
INSERT INTO orders VALUES ($id, 'NEW', 12.50, NOW(3), NULL), ($id+1, 'NEW', 99.00, NOW(3), 'gift');
UPDATE orders SET status='PAID', note='paid by card' WHERE id=$id;
DELETE FROM orders WHERE id=$id+1;
ALTER TABLE orders MODIFY note VARCHAR(500) NULL;"
sql -e "SELECT * FROM shop.orders WHERE id IN ($id, $id+1)"

echo "== messages in Kafka topic $topic"
bin/dts tail -f "$work/task.yaml" -from-beginning -timeout 10s -n 5
kill -TERM $pid; wait $pid || true
trap - EXIT
echo "== dts log"
cat "$work/dts.log"
