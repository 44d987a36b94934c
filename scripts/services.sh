#!/usr/bin/env bash
# Throwaway local services for development and tests: a PostgreSQL cluster and moto_server
# (the SQS endpoint), each on a free 127.0.0.1 port.
#
#   scripts/services.sh start   # install what is missing, start both, print the env lines
#   scripts/services.sh env     # print the env lines of the running services
#   scripts/services.sh stop    # stop both and remove the state dir
#
#   eval "$(scripts/services.sh start)"    # or: . .services/env
#
# State lives in $FETCHDE_SERVICES_DIR (default: .services/ at the repo root). The env file
# exports DATABASE_URL, VAULT_DATABASE_URL, PG*, AWS_*, and, for tests that stop/start
# PostgreSQL mid-test (fault injection):
#   FETCHDE_PG_BIN   directory with pg_ctl/initdb/psql
#   FETCHDE_PG_DATA  the cluster's data dir (all settings live in its postgresql.conf, so
#                    `pg_ctl -D "$FETCHDE_PG_DATA" -l "$FETCHDE_PG_LOG" start` restores it)
#   FETCHDE_PG_USER  the OS user owning the cluster (run pg_ctl via `runuser -u` when set;
#                    empty when the current user runs it directly)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${FETCHDE_SERVICES_DIR:-$ROOT/.services}"
ENV_FILE="$STATE/env"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

newest_pg_bin() {
    local dir best="" best_ver=0 ver
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/pg_ctl" ] || continue
        ver="$(basename "$(dirname "$dir")")"
        ver="${ver%%.*}"
        if [ "$ver" -gt "$best_ver" ] 2>/dev/null; then best="$dir"; best_ver="$ver"; fi
    done
    if [ -z "$best" ] && command -v pg_ctl >/dev/null 2>&1; then
        best="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
    fi
    [ -n "$best" ] || die "no PostgreSQL server binaries found (apt-get install postgresql)"
    echo "$best"
}

# Runs a command as the cluster's OS user (root may not run initdb/postgres).
as_pg() {
    if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

choose_pg_user() {
    PG_USER=""
    [ "$(id -u)" -eq 0 ] || return 0
    if id -u postgres >/dev/null 2>&1; then
        PG_USER=postgres
    else
        id -u fetchde-pg >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin fetchde-pg
        PG_USER=fetchde-pg
    fi
}

pg_running() {
    [ -n "${FETCHDE_PG_DATA:-}" ] && [ -f "$FETCHDE_PG_DATA/postmaster.pid" ] &&
        "$FETCHDE_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -t 2
}

moto_running() {
    [ -n "${FETCHDE_MOTO_PID:-}" ] && kill -0 "$FETCHDE_MOTO_PID" 2>/dev/null
}

start_postgres() {
    PG_BIN="$(newest_pg_bin)"
    choose_pg_user
    # The cluster's dir must be reachable by its OS user; fall back to /tmp when the repo
    # sits somewhere it cannot traverse (e.g. under /root).
    PG_DIR="$STATE/pg"
    mkdir -p "$PG_DIR"
    if [ -n "$PG_USER" ] && ! runuser -u "$PG_USER" -- test -x "$STATE"; then
        rmdir "$PG_DIR"
        PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fetchde-pg.XXXXXX")"
        echo "$PG_DIR" >"$STATE/pg-dir"
    fi
    chmod 755 "$PG_DIR"
    PG_DATA="$PG_DIR/data"
    PG_SOCK="$PG_DIR/run"
    PG_LOG="$PG_DIR/postgresql.log"
    mkdir -p "$PG_SOCK"
    [ -n "$PG_USER" ] && chown "$PG_USER" "$PG_DIR" "$PG_SOCK"

    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$STATE/initdb.log" 2>&1 || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }

    local attempt
    for attempt in 1 2 3; do
        PG_PORT="$(free_port)"
        # Everything in postgresql.conf, so a plain `pg_ctl start` brings back the same cluster.
        as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# --- fetchde throwaway test cluster (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
# Sized like a small production server's (the benchmarks' millions of rows stay in memory, as
# they would there); shared memory is only used as it fills, so small test runs cost nothing.
shared_buffers = 2GB
max_wal_size = 4GB
EOF
        if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null; then
            break
        fi
        [ "$attempt" -eq 3 ] && { tail -n 20 "$PG_LOG" >&2 || true; die "PostgreSQL did not start"; }
        log "PostgreSQL did not start on port $PG_PORT, retrying"
    done
    local i
    for i in $(seq 1 100); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1 && break
        [ "$i" -eq 100 ] && die "PostgreSQL is not answering on port $PG_PORT"
        sleep 0.1
    done
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres fetchde
}

start_moto() {
    local moto=(moto_server)
    command -v moto_server >/dev/null 2>&1 || moto=(python3 -m moto.server)
    local attempt i
    for attempt in 1 2 3; do
        MOTO_PORT="$(free_port)"
        # Own session/process group, so `stop` can end it and any children it forks.
        setsid "${moto[@]}" -H 127.0.0.1 -p "$MOTO_PORT" </dev/null >"$STATE/moto.log" 2>&1 &
        MOTO_PID=$!
        echo "$MOTO_PID" >"$STATE/moto.pid"
        for i in $(seq 1 300); do
            if http_answers "http://127.0.0.1:$MOTO_PORT/"; then
                return 0
            fi
            kill -0 "$MOTO_PID" 2>/dev/null || break
            sleep 0.1
        done
        stop_moto_pid "$MOTO_PID"
        log "moto_server did not answer on port $MOTO_PORT (attempt $attempt)"
    done
    tail -n 20 "$STATE/moto.log" >&2 || true
    die "moto_server did not start"
}

# True when anything answers HTTP at the URL (any status code counts).
http_answers() {
    python3 - "$1" >/dev/null 2>&1 <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
}

stop_moto_pid() {
    local pid="$1" i
    [ -n "$pid" ] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

write_env() {
    local url="postgresql://postgres@127.0.0.1:$PG_PORT/fetchde"
    cat >"$ENV_FILE.tmp" <<EOF
export DATABASE_URL=$url
export VAULT_DATABASE_URL=$url
export PGHOST=127.0.0.1
export PGPORT=$PG_PORT
export PGUSER=postgres
export PGDATABASE=fetchde
export AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export FETCHDE_PG_BIN=$PG_BIN
export FETCHDE_PG_DATA=$PG_DATA
export FETCHDE_PG_USER=$PG_USER
export FETCHDE_PG_LOG=$PG_LOG
export FETCHDE_MOTO_PID=$MOTO_PID
export FETCHDE_SERVICES_DIR=$STATE
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_start() {
    if [ -f "$ENV_FILE" ]; then
        # shellcheck disable=SC1090
        . "$ENV_FILE"
        if pg_running && moto_running; then
            cat "$ENV_FILE"
            return 0
        fi
        log "stale state in $STATE, restarting"
        cmd_stop
    elif [ -d "$STATE" ]; then
        cmd_stop
    fi
    # shellcheck source=lib/install-deps.sh
    . "$ROOT/scripts/lib/install-deps.sh" || die "installing dependencies failed"

    mkdir -p "$STATE"
    chmod 755 "$STATE"
    # If anything below fails, leave nothing running behind.
    trap 'rc=$?; if [ $rc -ne 0 ]; then cmd_stop; fi' EXIT
    start_postgres
    start_moto
    write_env
    trap - EXIT
    cat "$ENV_FILE"
}

cmd_stop() {
    local pg_dir="" data="" user="" bin="" pid
    [ -f "$STATE/pg-dir" ] && pg_dir="$(cat "$STATE/pg-dir")"
    if [ -f "$ENV_FILE" ]; then
        data="$(sed -n 's/^export FETCHDE_PG_DATA=//p' "$ENV_FILE")"
        user="$(sed -n 's/^export FETCHDE_PG_USER=//p' "$ENV_FILE")"
        bin="$(sed -n 's/^export FETCHDE_PG_BIN=//p' "$ENV_FILE")"
    fi
    [ -n "$data" ] || data="${pg_dir:-$STATE/pg}/data"
    [ -n "$bin" ] || bin="$(newest_pg_bin 2>/dev/null || true)"
    if [ -z "$user" ] && [ "$(id -u)" -eq 0 ] && [ -d "$data" ]; then
        user="$(stat -c %U "$data")"
    fi
    if [ -f "$data/postmaster.pid" ]; then
        PG_USER="$user"
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
        if [ -f "$data/postmaster.pid" ]; then
            pid="$(head -n 1 "$data/postmaster.pid")"
            [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    [ -f "$STATE/moto.pid" ] && stop_moto_pid "$(cat "$STATE/moto.pid")"
    [ -n "$pg_dir" ] && rm -rf "$pg_dir"
    rm -rf "$STATE"
}

cmd_env() {
    [ -f "$ENV_FILE" ] || die "services are not running (scripts/services.sh start)"
    cat "$ENV_FILE"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
