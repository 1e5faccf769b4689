#!/usr/bin/env bash
# A private MariaDB for tests and the demo: Debian's mariadb-server, its own
# datadir under $OPENDTS_INFRA (default ~/.cache/opendts-infra), 127.0.0.1
# only, binlog ROW / FULL image / FULL row metadata, GTID, TLS with a test CA
# ($OPENDTS_INFRA/run/tls/ca.pem).
#   scripts/mariadb.sh install|start|stop|status|env
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PORT=${MARIADB_PORT:-3307}
ROOT_PW=${MARIADB_ROOT_PASSWORD:-root}
B=$RUN/mariadb
SOCK=$B/run/mysqld.sock
PIDFILE=$B/run/mysqld.pid

install() {
  command -v mariadbd >/dev/null && command -v mariadb >/dev/null && return 0
  log "installing mariadb-server from apt"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
}

start() {
  install
  if alive "$PIDFILE" "$B/data"; then return 0; fi
  mkdir -p "$B/data" "$B/run" "$B/log"
  if [ ! -d "$B/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=root --datadir="$B/data" \
      --auth-root-authentication-method=normal --skip-test-db > "$B/log/install.log" 2>&1 \
      || fail_with_log "$B/log/install.log" "mariadb-install-db failed"
  fi
  ensure_tls
  port_open 127.0.0.1 "$PORT" && die "port $PORT is taken by another process; set MARIADB_PORT"
  nohup mariadbd --no-defaults --user=root --datadir="$B/data" \
    --socket="$SOCK" --pid-file="$PIDFILE" --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --server-id=1 --log-bin="$B/data/mariadb-bin" --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --gtid-strict-mode=ON --expire-logs-days=1 --max-allowed-packet=64M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 \
    --max-connections=500 --ssl-ca="$TLS_DIR/ca.pem" --ssl-cert="$TLS_DIR/server.pem" --ssl-key="$TLS_DIR/server-key.pem" \
    --log-error="$B/log/error.log" > "$B/log/stdout.log" 2>&1 &
  for _ in $(seq 1 120); do
    mariadb-admin --socket="$SOCK" -uroot -p"$ROOT_PW" ping >/dev/null 2>&1 && break
    mariadb-admin --socket="$SOCK" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  alive "$PIDFILE" "$B/data" || fail_with_log "$B/log/error.log" "mariadbd did not start"
  # Root over TCP with a password, and the least-privileged user a task needs.
  mariadb --socket="$SOCK" -uroot -p"$ROOT_PW" -e "SELECT 1" >/dev/null 2>&1 \
    || mariadb --socket="$SOCK" -uroot <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$ROOT_PW';
SQL
  mariadb --socket="$SOCK" -uroot -p"$ROOT_PW" <<SQL
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$ROOT_PW';
GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'dts'@'%' IDENTIFIED BY 'dts';
CREATE USER IF NOT EXISTS 'dts'@'localhost' IDENTIFIED BY 'dts';
CREATE USER IF NOT EXISTS 'dts'@'127.0.0.1' IDENTIFIED BY 'dts';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR, SHOW DATABASES, SHOW VIEW ON *.* TO 'dts'@'%';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR, SHOW DATABASES, SHOW VIEW ON *.* TO 'dts'@'localhost';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR, SHOW DATABASES, SHOW VIEW ON *.* TO 'dts'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
}

stop() {
  if alive "$PIDFILE" "$B/data"; then
    mariadb-admin --socket="$SOCK" -uroot -p"$ROOT_PW" shutdown >/dev/null 2>&1 || true
  fi
  stop_pid "$PIDFILE" "$B/data"
}

status() {
  if alive "$PIDFILE" "$B/data"; then echo "mariadb running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"; else echo "mariadb stopped"; return 1; fi
}

env_() {
  cat <<ENV
MARIADB_HOST=127.0.0.1
MARIADB_PORT=$PORT
MARIADB_USER=root
MARIADB_PASSWORD=$ROOT_PW
MARIADB_SOCKET=$SOCK
MARIADB_TLS_CA=$TLS_DIR/ca.pem
ENV
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env_ ;;
  *) die "usage: $0 install|start|stop|status|env" ;;
esac
