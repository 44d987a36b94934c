#!/usr/bin/env bash
# Benchmarks the key rotations (release build) on a database this script fills itself with
# N user_logins rows through the real pipeline (etl ingest of generated messages):
#   1. `vault rotate --encryption` then `vault rewrap`: re-seals data keys only, so its time
#      should not grow with the entries (target: under 2 s over 1,000,000 entries);
#   2. `vault rotate --tokens` then `vault retokenize`: every entry re-tokenized and
#      re-encrypted, every row moved to the new tokens (target: >= 50,000 rows/s).
# Then it checks that nothing is left under the old keys. The database is dropped afterwards.
#
#   scripts/bench-rotation.sh                  # N=1000000; starts throwaway services if needed
#   N=200000 SCRATCH_PATH=.build-release scripts/bench-rotation.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then
    exec "$ROOT/scripts/with-services.sh" "$0" "$@"
fi
N="${N:-1000000}"
log() { echo "bench-rotation: $*" >&2; }
. "$ROOT/scripts/lib/bench-common.sh"
bench_build vault etl
bench_database bench-rotation
export METRICS_ADDRESS=off LOG_LEVEL=warning
q() { "$PSQL" -X -At -d "$DATABASE_URL" -c "$1"; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

log "filling: $N messages through etl ingest"
"$BIN/etl" migrate >/dev/null
"$BIN/vault" init --no-passphrase >/dev/null
"$BIN/etl" demo-messages --count "$N" --malformed-every 0 > "$WORK/messages.jsonl"
"$BIN/etl" ingest "$WORK/messages.jsonl" >/dev/null
q "VACUUM ANALYZE" >/dev/null
# What the fill left to write out is not the rotations' cost.
q "CHECKPOINT" >/dev/null
rows="$(q 'SELECT count(*) FROM user_logins')"
entries="$(q 'SELECT count(*) FROM pii_vault')"
deks="$(q 'SELECT count(*) FROM vault_data_keys')"
echo "== data: $rows user_logins rows, $entries vault entries, $deks data keys"

echo "== 1. vault rotate --encryption, then vault rewrap"
"$BIN/vault" rotate --encryption --no-passphrase >/dev/null
start=$(date +%s.%N)
"$BIN/vault" rewrap >/dev/null
end=$(date +%s.%N)
echo "  rewrap: $(seconds "$start" "$end") s for $deks data keys over $entries entries (target < 2 s)"
echo "  data keys left on the old vault key: $(q 'SELECT count(*) FROM vault_data_keys WHERE vault_key_version < 2')"

echo "== 2. vault rotate --tokens, then vault retokenize"
"$BIN/vault" rotate --tokens >/dev/null
/usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$BIN/vault" retokenize >/dev/null
read -r elapsed user sys rss < "$WORK/time"
python3 - "$rows" "$entries" "$elapsed" "$user" "$sys" "$rss" <<'PY'
import sys
rows, entries, elapsed, user, sys_, rss = sys.argv[1:]
rows, entries, elapsed = int(rows), int(entries), float(elapsed)
print(f"  retokenize: {elapsed:.1f} s: {rows / elapsed:,.0f} user_logins rows/s (target >= 50,000), "
      f"{entries / elapsed:,.0f} vault entries/s")
print(f"  vault CPU {float(user) + float(sys_):.1f} s (the rest is PostgreSQL), peak RSS {int(rss) / 1024:.1f} MB")
PY
# The floor on this machine: one bare UPDATE of the same columns of every row and entry
# (no crypto, no mapping, one statement each), rolled back.
floor() {
    local start end
    start=$(date +%s.%N)
    "$PSQL" -X -q -d "$DATABASE_URL" -c "BEGIN" -c "$1" -c "ROLLBACK"
    end=$(date +%s.%N)
    seconds "$start" "$end"
}
rows_floor="$(floor "UPDATE user_logins SET masked_ip = reverse(masked_ip), masked_device_id = reverse(masked_device_id), token_key_version = 0")"
entries_floor="$(floor "UPDATE pii_vault SET token = reverse(token), token_key_version = 0")"
python3 - "$elapsed" "$rows_floor" "$entries_floor" <<'PY'
import sys
elapsed, rows, entries = map(float, sys.argv[1:])
print(f"  floor: bare UPDATE of every row {rows:.1f} s + of every entry {entries:.1f} s = {rows + entries:.1f} s; "
      f"retokenize takes {elapsed / (rows + entries):.2f}x that")
PY
echo "  left under the old token key: $(q 'SELECT count(*) FROM user_logins WHERE token_key_version < 2') rows, $(q 'SELECT count(*) FROM pii_vault WHERE token_key_version < 2') entries; mapping rows left: $(q 'SELECT count(*) FROM token_rewrites')"
