#!/usr/bin/env bash
# Benchmarks data-subject erasure (release build) on a database this script fills itself with
# N user_logins rows through the real pipeline (etl ingest of generated messages), like
# scripts/bench-rotation.sh:
#   1. `vault subject forget` of S subjects (default 1,000) in one call;
#   2. etl ingest throughput of M fresh messages (default 100,000) with no subject key and no
#      erasures, then with T erasures recorded (default 100,000: the erasure check hashes every
#      user id and probes them, one statement per batch), then with none again (target: at
#      most 5 % slower with them than the mean of the two runs without).
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

echo "== 2. etl ingest of $M fresh messages: without erasures, with $T, without again"
ingest() {
    "$BIN/etl" demo-messages --count "$M" --malformed-every 0 --seed "$1" > "$WORK/fresh.jsonl"
    q "CHECKPOINT" >/dev/null
    local start end
    start=$(date +%s.%N)
    "$BIN/etl" ingest "$WORK/fresh.jsonl" >/dev/null
    end=$(date +%s.%N)
    seconds "$start" "$end"
}
none_state() { q "DELETE FROM fetchde.subject_erasures; DELETE FROM fetchde.subject_key" >/dev/null; }
none_state
without1="$(ingest 1001)"
# The subject key registered again (as the forget above did) and T erasures of other ids.
"$BIN/vault" subject forget "bench-nobody" --reason "benchmark" >/dev/null
q "INSERT INTO fetchde.subject_erasures (subject_hash, erased_at)
   SELECT encode(sha256(convert_to('bench-' || i, 'UTF8')), 'hex'), now() FROM generate_series(1, $T - 1) i" >/dev/null
q "ANALYZE fetchde.subject_erasures" >/dev/null
with="$(ingest 1002)"
tombstones="$(q 'SELECT count(*) FROM fetchde.subject_erasures')"
none_state
without2="$(ingest 1003)"
python3 - "$M" "$without1" "$with" "$without2" "$tombstones" <<'PY'
import sys
m, a, b, c, t = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
base = (a + c) / 2
print(f"  without erasures: {m / a:,.0f} and {m / c:,.0f} messages/s; with {t} erasures: {m / b:,.0f} messages/s")
print(f"  with erasures vs the mean without: {100 * (b - base) / base:+.1f} % time (target <= +5 %)")
PY
