#!/usr/bin/env bash
# A throwaway PostgreSQL primary with a synchronous streaming standby (pg_basebackup -R),
# for the failover test. Uses the binaries and OS user of scripts/services.sh
# (FETCHDE_PG_BIN, FETCHDE_PG_USER from its env file).
#
#   pg-standby-pair.sh start DIR          # prints "PRIMARY_PORT STANDBY_PORT" once in sync
#   pg-standby-pair.sh stop-primary DIR   # pg_ctl stop -m immediate (a crash)
#   pg-standby-pair.sh promote DIR        # pg_ctl promote the standby, waits
#   pg-standby-pair.sh stop DIR           # stops both, removes DIR
#
# Unlike the services' cluster (fsync and synchronous_commit off for speed), the pair commits
# synchronously: COMMIT returns once the standby has the WAL, as on RDS Multi-AZ.
set -euo pipefail

[ "$#" -eq 2 ] || { echo "usage: $0 start|stop-primary|promote|stop DIR" >&2; exit 2; }
PG_BIN="${FETCHDE_PG_BIN:?FETCHDE_PG_BIN is not set (run under scripts/with-services.sh)}"
PG_USER="${FETCHDE_PG_USER:-}"
DIR="$2"

# The servers started here outlive this script: they must not inherit a descriptor of the
# caller's (Foundation's Process, for one, learns of our exit when its socket closes).
for fd in /proc/$$/fd/*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

as_pg() { if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }
free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "$1" in
start)
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    [ -n "$PG_USER" ] && chown "$PG_USER" "$DIR"
    primary_port="$(free_port)"
    standby_port="$(free_port)"
    as_pg "$PG_BIN/initdb" -D "$DIR/primary" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_pg tee -a "$DIR/primary/postgresql.conf" >/dev/null <<EOF

# --- fetchde failover test primary (scripts/pg-standby-pair.sh) ---
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$DIR'
max_connections = 50
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 4
synchronous_commit = on
synchronous_standby_names = '*'
EOF
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w -t 30 start >/dev/null
    as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$DIR/standby" -R -X stream \
        >"$DIR/basebackup.log" 2>&1 || { cat "$DIR/basebackup.log" >&2; exit 1; }
    as_pg tee -a "$DIR/standby/postgresql.conf" >/dev/null <<EOF

# --- fetchde failover test standby ---
port = $standby_port
# Once promoted it is alone: it must not wait for a standby of its own.
synchronous_standby_names = ''
EOF
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w -t 30 start >/dev/null
    for _ in $(seq 1 100); do
        synced="$("$PG_BIN/psql" -h 127.0.0.1 -p "$primary_port" -U postgres -d postgres -tAc \
            "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")"
        [ "$synced" = "1" ] && { echo "$primary_port $standby_port"; exit 0; }
        sleep 0.1
    done
    echo "the standby did not reach synchronous replication" >&2
    exit 1
    ;;
stop-primary)
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/primary" -m immediate -w stop >/dev/null
    ;;
promote)
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/standby" -w -t 30 promote >/dev/null
    ;;
stop)
    for node in primary standby; do
        [ -f "$DIR/$node/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$DIR/$node" -m immediate -w stop >/dev/null 2>&1 || true
    done
    rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 start|stop-primary|promote|stop DIR" >&2
    exit 2
    ;;
esac
