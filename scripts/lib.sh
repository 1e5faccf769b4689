# Shared helpers for the infra scripts. Sourced, not run.
INFRA=${OPENDTS_INFRA:-$HOME/.cache/opendts-infra}
RUN=$INFRA/run
mkdir -p "$RUN"

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# alive PIDFILE MATCH: the pid in PIDFILE is running and its command line contains MATCH.
alive() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$2"
}

# port_open HOST PORT
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# stop_pid PIDFILE MATCH: TERM, wait up to 30 s, then KILL. Only our own process.
stop_pid() {
  local pid
  alive "$1" "$2" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do alive "$1" "$2" || break; sleep 0.1; done
  if alive "$1" "$2"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$1"
}

# fail_with_log FILE MESSAGE
fail_with_log() {
  log "error: $2"
  [ -f "$1" ] && { log "--- last 50 lines of $1"; tail -n 50 "$1" >&2; }
  exit 1
}

# ensure_tls: a private CA and a server certificate for 127.0.0.1/localhost
# in $RUN/tls (ca.pem, server.pem, server-key.pem PKCS#8, server-bundle.pem =
# key + certificate for Kafka's PEM keystore). Made once; for tests only.
TLS_DIR=$RUN/tls
ensure_tls() {
  [ -f "$TLS_DIR/server-bundle.pem" ] && return 0
  command -v openssl >/dev/null || die "openssl is needed to make test certificates"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=opendts test CA" \
      -keyout ca-key.pem -out ca.pem >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout key.tmp -out server.csr >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile ext.cnf -out server.pem >/dev/null 2>&1
    openssl pkcs8 -topk8 -nocrypt -in key.tmp -out server-key.pem
    cat server-key.pem server.pem > server-bundle.pem
    rm -f key.tmp server.csr ext.cnf
  ) || die "making test certificates failed"
}
