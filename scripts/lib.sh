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
