#!/usr/bin/env bash
# Benchmarks `vault quarantine replay` (release build): BULK messages quarantined because the
# database rejected them as data (a CHECK constraint a DBA added), the constraint dropped, then
# one `vault quarantine replay --all` — messages/s (target >= 20,000/s).
#
#   scripts/bench-quarantine.sh                 # starts throwaway services when DATABASE_URL is unset
#   BULK=100000 SCRATCH_PATH=.build-release scripts/bench-quarantine.sh
#
# Filling the quarantine: `etl ingest` writes a rejected batch's messages one by one (about
# 260 messages/s here: 6 minutes for 100,000), so by default it quarantines only the first
# REAL lines (default 200) and `fetchde-bench quarantine-fill` writes the rest as the same rows
# (the message ids etl ingest gives those lines, the reason the real rejection recorded,
# sealed by the pipeline's writer) in batches. FILL=etl quarantines every line through etl
# ingest. Only the replay (the real command) is timed. The database is dropped afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then
    exec "$ROOT/scripts/with-services.sh" "$0" "$@"
fi

BULK="${BULK:-100000}"
FILL="${FILL:-bench}"
REAL="${REAL:-200}"
log() { echo "bench-quarantine: $*" >&2; }
. "$ROOT/scripts/lib/bench-common.sh"
bench_build vault etl fetchde-bench
bench_database bench-quarantine
export VAULT_PASSPHRASE="bench passphrase $$" METRICS_ADDRESS=off LOG_LEVEL=error
unset VAULT_PASSPHRASE_FILE
cd "$WORK"   # no config/config.ini here: environment and defaults only

"$BIN/etl" migrate >/dev/null
"$BIN/vault" init >/dev/null
"$PSQL" "$DATABASE_URL" -qc "ALTER TABLE user_logins ADD CONSTRAINT bench_blocked CHECK (device_type IS DISTINCT FROM 'blocked')"
log "quarantining $BULK generated messages (rejected by a CHECK)"
awk -v n="$BULK" 'BEGIN {
    for (i = 0; i < n; i++)
        printf "{\"user_id\": \"bench-user-%d\", \"app_version\": \"2.3.0\", \"device_type\": \"blocked\", \"ip\": \"10.%d.%d.%d\", \"locale\": \"US\", \"device_id\": \"%03d-%02d-%04d\"}\n",
            i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, int(i / 1000000) % 1000, int(i / 10000) % 100, i % 10000
}' >messages.jsonl
if [ "$FILL" = etl ] || [ "$REAL" -ge "$BULK" ]; then
    "$BIN/etl" ingest messages.jsonl >/dev/null
else
    head -n "$REAL" messages.jsonl >real.jsonl
    "$BIN/etl" ingest real.jsonl >/dev/null
    reasons="$("$PSQL" "$DATABASE_URL" -Atqc "SELECT count(DISTINCT reason) FROM etl_quarantine")"
    [ "$reasons" -eq 1 ] || { log "expected one quarantine reason from etl ingest, found $reasons"; exit 1; }
    reason="$("$PSQL" "$DATABASE_URL" -Atqc "SELECT reason FROM etl_quarantine LIMIT 1")"
    "$BIN/fetchde-bench" quarantine-fill messages.jsonl --reason "$reason" --skip "$REAL" >/dev/null
    # The same kind of rows as etl ingest's: one reason, no SentTimestamp, seen once.
    shape="$("$PSQL" "$DATABASE_URL" -Atqc "SELECT count(DISTINCT reason), count(sent_at), count(receive_count), max(seen_count) FROM etl_quarantine")"
    [ "$shape" = "1|0|0|1" ] || { log "filled rows differ from etl ingest's (reasons|sent_at|receive_count|max seen: $shape)"; exit 1; }
fi
quarantined="$("$PSQL" "$DATABASE_URL" -Atqc "SELECT count(*) FROM etl_quarantine")"
[ "$quarantined" -eq "$BULK" ] || { log "expected $BULK quarantined messages, found $quarantined"; exit 1; }
"$PSQL" "$DATABASE_URL" -qc "ALTER TABLE user_logins DROP CONSTRAINT bench_blocked"
# What autovacuum does during a slow fill, done either way so it does not run during the replay.
"$PSQL" "$DATABASE_URL" -qc "VACUUM ANALYZE user_logins" -qc "VACUUM ANALYZE etl_quarantine" -qc "CHECKPOINT"

log "replaying $BULK quarantined messages"
TIMEFORMAT='%3R %3U %3S'
read -r real user sys < <({ time "$BIN/vault" quarantine replay --all --reason "benchmark" >replay.txt 2>errors.txt; } 2>&1)
loaded="$("$PSQL" "$DATABASE_URL" -Atqc "SELECT count(*) FROM user_logins")"
left="$("$PSQL" "$DATABASE_URL" -Atqc "SELECT count(*) FROM etl_quarantine")"
[ "$loaded" -eq "$BULK" ] && [ "$left" -eq 0 ] || { log "loaded $loaded, left $left"; cat replay.txt errors.txt >&2; exit 1; }
rate="$(awk -v n="$loaded" -v t="$real" 'BEGIN { printf "%d", n / t }')"

echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "vault quarantine replay --all, $loaded messages: ${real} s wall, $rate messages/s (target >= 20000/s);" \
    "vault CPU ${user} s user + ${sys} s sys"
