#!/usr/bin/env bash
# Benchmarks data-subject erasure (release build) on a database this script fills itself with
# N user_logins rows through the real pipeline (etl ingest of generated messages), like
# scripts/bench-rotation.sh:
#   1. `vault subject forget` of S subjects (default 1,000) in one call;
#   2. etl ingest throughput of M fresh messages (default 100,000) with no subject key and no
#      erasures, and with T erasures recorded (default 100,000: the erasure check hashes every
#      user id, reads the tombstones' prefixes once per process and checks them in memory),
#      alternately, R rounds (default 3) (target: the median with them at most 5 % slower than
#      the median without).
# The database is dropped afterwards.
#
#   scripts/bench-subjects.sh                  # N=1000000; starts throwaway services if needed
#   N=200000 SCRATCH_PATH=.build-release scripts/bench-subjects.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then
    exec "$ROOT/scripts/with-services.sh" "$0" "$@"
fi
N="${N:-1000000}"
S="${S:-1000}"
M="${M:-100000}"
T="${T:-100000}"
R="${R:-3}"
log() { echo "bench-subjects: $*" >&2; }
. "$ROOT/scripts/lib/bench-common.sh"
bench_build vault etl
bench_database bench-subjects
export METRICS_ADDRESS=off LOG_LEVEL=warning
q() { "$PSQL" -X -At -d "$DATABASE_URL" -c "$1"; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

log "filling: $N messages through etl ingest"
"$BIN/etl" migrate >/dev/null
"$BIN/vault" init --no-passphrase >/dev/null
"$BIN/etl" demo-messages --count "$N" --malformed-every 0 > "$WORK/messages.jsonl"
"$BIN/etl" ingest "$WORK/messages.jsonl" >/dev/null
rm -f "$WORK/messages.jsonl"
q "VACUUM ANALYZE" >/dev/null
q "CHECKPOINT" >/dev/null
rows="$(q 'SELECT count(*) FROM user_logins')"
entries="$(q 'SELECT count(*) FROM pii_vault')"
echo "== data: $rows user_logins rows, $entries vault entries, $(q 'SELECT count(DISTINCT user_id) FROM user_logins') subjects"

echo "== 1. vault subject forget of $S subjects in one call"
q "SELECT user_id FROM user_logins GROUP BY user_id ORDER BY min(login_id) LIMIT $S" > "$WORK/subjects"
subject_rows="$(q "SELECT count(*) FROM user_logins WHERE user_id IN (SELECT user_id FROM user_logins GROUP BY user_id ORDER BY min(login_id) LIMIT $S)")"
mapfile -t subjects < "$WORK/subjects"
start=$(date +%s.%N)
"$BIN/vault" subject forget "${subjects[@]}" --reason "benchmark" > "$WORK/forget.out"
end=$(date +%s.%N)
echo "  $(seconds "$start" "$end") s for ${#subjects[@]} subjects ($subject_rows logins): $(cat "$WORK/forget.out")"
echo "  their logins left: $(q "SELECT count(*) FROM user_logins WHERE user_id IN (SELECT unnest(string_to_array('$(paste -sd, "$WORK/subjects")', ',')))")"

echo "== 2. etl ingest of $M fresh messages, alternately without erasures and with $T, $R rounds each"

# CPU seconds the server's exited processes used (the postmaster's reaped children: the
# ingest's backend among them), to tell the work from the wait on a shared machine.
POSTMASTER="$(head -1 "$(q 'SHOW data_directory')/postmaster.pid" 2>/dev/null || true)"
pg_cpu() {
    [ -r "/proc/$POSTMASTER/stat" ] || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($14 + $15) / hz }' "/proc/$POSTMASTER/stat"
}
# Prints "wall etl-cpu postgres-cpu" (seconds) of one ingest.
ingest() {
    "$BIN/etl" demo-messages --count "$M" --malformed-every 0 --seed "$1" > "$WORK/fresh.jsonl"
    # What autovacuum does after every 10-20 % of the table's rows: done before each run, so
    # it does not land in some runs (and count against whichever state they measure).
    q "VACUUM ANALYZE user_logins" >/dev/null
    q "CHECKPOINT" >/dev/null
    local start end cpu before after
    before=$(pg_cpu)
    start=$(date +%s.%N)
    cpu=$(/usr/bin/time -f "%U %S" "$BIN/etl" ingest "$WORK/fresh.jsonl" 2>&1 >/dev/null | tail -1)
    end=$(date +%s.%N)
    sleep 0.2  # the backend's exit is reaped
    after=$(pg_cpu)
    echo "$(seconds "$start" "$end") $(echo "$cpu" | awk '{ printf "%.2f", $1 + $2 }') $(seconds "$before" "$after")"
}
# Without: no subject key registered, no erasures (as before the first request). With: the
# key registered (as a forget does) and T erasures of other ids, so every user id is hashed
# and checked against them.
none_state() {
    q "DELETE FROM fetchde.subject_erasures; DELETE FROM fetchde.subject_key" >/dev/null
    # Else autovacuum cleans the 100,000 deleted tombstones during the next ingest.
    q "VACUUM fetchde.subject_erasures" >/dev/null
}
with_state() {
    "$BIN/vault" subject forget "bench-nobody" --reason "benchmark" >/dev/null
    q "INSERT INTO fetchde.subject_erasures (subject_hash, erased_at)
       SELECT encode(sha256(convert_to('bench-' || i, 'UTF8')), 'hex'), now() FROM generate_series(1, $T - 1) i
       ON CONFLICT DO NOTHING" >/dev/null
    # As autovacuum would have long before the next ingest: without it, the ingest's first
    # read of the 100,000 just-inserted rows sets their hint bits (writes) and is charged to it.
    q "VACUUM (ANALYZE) fetchde.subject_erasures" >/dev/null
}
without=()
with=()
# Each ingest adds M rows, and a larger table ingests a little slower: alternate which state
# goes first (ABBA), so that growth does not count against one of them.
for round in $(seq 1 "$R"); do
    if [ $((round % 2)) -eq 1 ]; then
        none_state
        without+=("$(ingest $((1000 + 2 * round)))")
        with_state
        with+=("$(ingest $((1001 + 2 * round)))")
    else
        with_state
        with+=("$(ingest $((1001 + 2 * round)))")
        none_state
        without+=("$(ingest $((1000 + 2 * round)))")
    fi
done
tombstones="$(q 'SELECT count(*) FROM fetchde.subject_erasures')"
python3 - "$M" "$tombstones" "$(printf '%s;' "${without[@]}")" "$(printf '%s;' "${with[@]}")" <<'PY'
import statistics, sys
m, t = int(sys.argv[1]), sys.argv[2]
a = [[float(v) for v in run.split()] for run in sys.argv[3].split(";") if run]
b = [[float(v) for v in run.split()] for run in sys.argv[4].split(";") if run]
print("  without erasures: " + ", ".join(f"{m / x[0]:,.0f}" for x in a) + " messages/s")
print(f"  with {t} erasures: " + ", ".join(f"{m / x[0]:,.0f}" for x in b) + " messages/s")
ma, mb = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
print(f"  medians: {m / ma:,.0f} vs {m / mb:,.0f} messages/s: {100 * (mb - ma) / ma:+.1f} % time with erasures (target <= +5 %)")
for name, i in (("etl", 1), ("postgres", 2)):
    ca, cb = statistics.median(x[i] for x in a), statistics.median(x[i] for x in b)
    print(f"  {name} CPU, median: {ca:.2f} s without, {cb:.2f} s with ({100 * (cb - ca) / ca if ca else 0:+.1f} %)")
PY
