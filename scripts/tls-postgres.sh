#!/usr/bin/env bash
# A small throwaway PostgreSQL cluster that speaks TLS, for the vault's TLS tests
# (Tests/VaultIntegrationTests/VaultTLSTests.swift). Optional: scripts/services.sh and the
# other tests do not use it.
#
#   scripts/tls-postgres.sh start DIR   # prints PORT=<port>; DIR must exist and be empty
#   scripts/tls-postgres.sh stop DIR
#
# DIR gets ca.crt (the CA that signed the server's certificate, whose names are
# db.fetchde.test, localhost and 127.0.0.1), other-ca.crt (an unrelated CA), the server's
# certificate and key, the cluster (data/, run/, postgresql.log). The cluster listens on a free
# 127.0.0.1 port with trust authentication, TLS and plaintext both accepted. Uses
# FETCHDE_PG_BIN and FETCHDE_PG_USER from scripts/services.sh when set.
set -euo pipefail

die() { echo "tls-postgres: $*" >&2; exit 1; }

[ "$#" -eq 2 ] || die "usage: $0 start|stop DIR"
DIR="$(cd "$2" && pwd)"

PG_BIN="${FETCHDE_PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
    command -v pg_ctl >/dev/null 2>&1 || die "no pg_ctl on PATH (set FETCHDE_PG_BIN)"
    PG_BIN="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
fi
PG_USER="${FETCHDE_PG_USER:-}"
if [ -z "$PG_USER" ] && [ "$(id -u)" -eq 0 ]; then PG_USER=postgres; fi
as_pg() {
    if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

certificates() {
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    for ca in ca other-ca; do
        openssl req -x509 "${ec[@]}" -keyout "$DIR/$ca.key" -out "$DIR/$ca.crt" -days 2 \
            -subj "/CN=fetchde $ca" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    done
    openssl req "${ec[@]}" -keyout "$DIR/server.key" -out "$DIR/server.csr" -subj "/CN=db.fetchde.test" 2>/dev/null
    printf 'subjectAltName=DNS:db.fetchde.test,DNS:localhost,IP:127.0.0.1\n' >"$DIR/server.ext"
    openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
        -out "$DIR/server.crt" -days 2 -extfile "$DIR/server.ext" 2>/dev/null
    chmod 600 "$DIR/server.key"
    chmod 644 "$DIR/ca.crt" "$DIR/other-ca.crt" "$DIR/server.crt"
    [ -n "$PG_USER" ] && chown "$PG_USER" "$DIR/server.key" "$DIR/server.crt"
    return 0
}

# The server outlives this script, so it must not hold the caller's descriptors: a test
# runner (Foundation's Process) waits for every copy of its own to close before it sees the
# script end.
close_inherited_descriptors() {
    local fd
    for fd in /proc/$$/fd/*; do
        fd="${fd##*/}"
        case "$fd" in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
    done
}

start() {
    close_inherited_descriptors
    chmod 755 "$DIR"
    certificates
    mkdir -p "$DIR/run"
    [ -n "$PG_USER" ] && chown "$PG_USER" "$DIR" "$DIR/run"
    as_pg "$PG_BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    local attempt port
    for attempt in 1 2 3; do
        port="$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
        as_pg tee -a "$DIR/data/postgresql.conf" >/dev/null <<EOF

# --- fetchde TLS test cluster (scripts/tls-postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR/run'
max_connections = 20
shared_buffers = 16MB
fsync = off
ssl = on
ssl_cert_file = '$DIR/server.crt'
ssl_key_file = '$DIR/server.key'
EOF
        if as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w -t 60 start </dev/null >/dev/null; then
            echo "PORT=$port"
            return 0
        fi
    done
    tail -n 20 "$DIR/postgresql.log" >&2 || true
    die "PostgreSQL did not start"
}

stop() {
    [ -f "$DIR/data/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

case "$1" in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 start|stop DIR" ;;
esac
