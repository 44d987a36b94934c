#!/usr/bin/env bash
# Benchmarks `vault reveal` (release build) against a database this script fills itself:
#   1. wall time of one `vault reveal TOKEN --reason …`, process start to exit, with the
#      passphrase-protected private key (scrypt) — median of $RUNS runs (target < 150 ms);
#   2. bulk reveal of $BULK tokens from stdin in one run — tokens/s (target >= 50,000/s).
#
#   scripts/bench-vault.sh                      # starts throwaway services when DATABASE_URL is unset
#   RUNS=20 BULK=100000 SCRATCH_PATH=.build-release scripts/bench-vault.sh
#
# The data comes through the real pipeline: etl migrate, vault init, etl ingest of BULK
# generated messages with distinct ip and device_id values (2*BULK vault entries; the demo
# generator draws from a smaller pool), then BULK tokens picked at random. The database is
# dropped afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then
    exec "$ROOT/scripts/with-services.sh" "$0" "$@"
fi

RUNS="${RUNS:-11}"
BULK="${BULK:-100000}"
log() { echo "bench-vault: $*" >&2; }
. "$ROOT/scripts/lib/bench-common.sh"
bench_build vault etl
bench_database bench-vault
export VAULT_PASSPHRASE="bench passphrase $$" METRICS_ADDRESS=off LOG_LEVEL=warning
unset VAULT_PASSPHRASE_FILE
cd "$WORK"   # no config/config.ini here: environment and defaults only

"$BIN/etl" migrate >/dev/null
"$BIN/vault" init >/dev/null
log "ingesting $BULK generated messages"
awk -v n="$BULK" 'BEGIN {
    for (i = 0; i < n; i++)
        printf "{\"user_id\": \"bench-user-%d\", \"app_version\": \"2.3.0\", \"device_type\": \"android\", \"ip\": \"10.%d.%d.%d\", \"locale\": \"US\", \"device_id\": \"%03d-%02d-%04d\"}\n",
            i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, int(i / 1000000) % 1000, int(i / 10000) % 100, i % 10000
}' >messages.jsonl
"$BIN/etl" ingest messages.jsonl >&2
"$PSQL" "$DATABASE_URL" -Atqc "SELECT token FROM pii_vault ORDER BY random() LIMIT $BULK" >tokens.txt
TOKENS="$(wc -l <tokens.txt)"
ONE="$(head -n 1 tokens.txt)"

# bash's `time` gives wall and CPU (user+sys) of the child; CPU does not depend on how busy
# the machine is, wall does (the figures are printed together with the load average).
TIMEFORMAT='%3R %3U %3S'
timed() { { time "$@" >/dev/null 2>>"$WORK/errors.txt"; } 2>&1; }
ms() { awk '{ printf "%d", $1 * 1000 + 0.5 }'; }

log "single reveal x $RUNS"
walls=() cpus=()
for _ in $(seq 1 "$RUNS"); do
    read -r real user sys < <(timed "$BIN/vault" reveal "$ONE" --reason "benchmark single")
    walls+=("$(echo "$real" | ms)")
    cpus+=("$(echo "$user $sys" | awk '{ printf "%d", ($1 + $2) * 1000 + 0.5 }')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minimum() { printf '%s\n' "$@" | sort -n | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -n | tail -n 1; }

log "bulk reveal of $TOKENS tokens"
read -r bulk_real bulk_user bulk_sys < <({ time "$BIN/vault" reveal --stdin --reason "benchmark bulk" <tokens.txt >revealed.tsv 2>>"$WORK/errors.txt"; } 2>&1)
lines="$(wc -l <revealed.tsv)"
[ "$lines" -eq "$TOKENS" ] || { log "expected $TOKENS lines, got $lines"; cat "$WORK/errors.txt" >&2; exit 1; }
rate="$(awk -v n="$lines" -v t="$bulk_real" 'BEGIN { printf "%d", n / t }')"

"$BIN/vault" audit --verify >/dev/null

echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "vault reveal, one token, process start to exit (passphrase-protected key, scrypt):" \
    "median $(median "${walls[@]}") ms wall (min $(minimum "${walls[@]}"), max $(maximum "${walls[@]}"), $RUNS runs; target < 150 ms)," \
    "median $(median "${cpus[@]}") ms CPU"
echo "vault reveal --stdin, $lines tokens: ${bulk_real} s wall, $rate tokens/s (target >= 50000/s);" \
    "CPU ${bulk_user} s user + ${bulk_sys} s sys"
