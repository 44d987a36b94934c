#!/usr/bin/env bash
# Where `etl run --drain` spends its instructions on the SQS path: valgrind's callgrind
# (instruction counts, reproducible on a loaded machine) over a backlog of N messages in
# ../shared/bench/sqs_fast.py (latency 0), then callgrind_annotate's inclusive top functions.
#
#   scripts/profile-etl-sqs.sh                 (N=2000; etl from the release build)
#   ETL=path/to/etl N=5000 scripts/profile-etl-sqs.sh
#   OUT=DIR scripts/profile-etl-sqs.sh         (keep callgrind.out in DIR)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${DATABASE_URL:-}" ]; then exec "$ROOT/scripts/with-services.sh" "$0" "$@"; fi
command -v valgrind >/dev/null || { echo "profile-etl-sqs: valgrind is not installed" >&2; exit 69; }
SQS_FAST="${SQS_FAST:-$ROOT/../shared/bench/sqs_fast.py}"
[ -f "$SQS_FAST" ] || { echo "profile-etl-sqs: $SQS_FAST not found" >&2; exit 69; }
N="${N:-2000}"
ETL="${ETL:-$ROOT/.build-release/release/etl}"
PY="$ROOT/scripts/bench_sqs_boto3.py"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fetchde-profile.XXXXXX")"
OUT="${OUT:-$WORK}"
sqs_fast=""
cleanup() { [ -z "$sqs_fast" ] || kill "$sqs_fast" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export KEYS_DIR="$WORK/keys" METRICS_ADDRESS=off LOG_LEVEL=warning ETL_WAIT_TIME_SECONDS=1
DATABASE_URL="${DATABASE_URL%/*}/profile_$$"
psql -X -q -d "${DATABASE_URL%/*}/postgres" -c "CREATE DATABASE profile_$$"
export DATABASE_URL VAULT_DATABASE_URL="$DATABASE_URL"
"$ETL" migrate >/dev/null
"$(dirname "$ETL")/vault" init --no-passphrase >/dev/null
# valgrind 3.19 cannot read the toolchain's DWARF 5: profile a copy without it (symbols stay).
objcopy --strip-debug "$ETL" "$WORK/etl"
port="$(free_port)"
python3 "$SQS_FAST" -H 127.0.0.1 -p "$port" > "$WORK/sqs_fast.log" 2>&1 &
sqs_fast=$!
until curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1; do sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$port"
queue="$(python3 "$PY" create-queue "profile-$$")"
python3 "$PY" produce --queue-url "$queue" --messages "$N" --max-depth 0 --threads 8
if SQS_QUEUE_URL="$queue" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" "$WORK/etl" run --drain 2> "$WORK/valgrind.log" >/dev/null; then
    total="$(callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')"
    echo "== etl run --drain of $N messages (callgrind): $total instructions, $((total / N)) per message"
    callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | { swift demangle --simplified 2>/dev/null || cat; } |
        awk '/^-+$/ { n++ } n >= 3' | sed -n "1,${TOP:-60}p" | cut -c1-220
    exit 0
fi
# valgrind 3.19 dies with an internal SIGSEGV when etl starts its first thread: sample with
# perf instead (cycles, not instructions: repeat a figure when the machine is loaded).
echo "== callgrind failed ($(grep -m1 -o 'VALGRIND INTERNAL ERROR.*' "$WORK/valgrind.log" || echo "see its log")); perf instead" >&2
queue="$(python3 "$PY" create-queue "profile-perf-$$")"
python3 "$PY" produce --queue-url "$queue" --messages "$N" --max-depth 0 --threads 8
SQS_QUEUE_URL="$queue" perf record -q -F 2000 -g -o "$OUT/perf.data" -- "$ETL" run --drain >/dev/null 2>&1
echo "== etl run --drain of $N messages (perf, inclusive share of samples)"
perf report -i "$OUT/perf.data" --children --sort sym -g none --stdio 2>/dev/null | { swift demangle --simplified 2>/dev/null || cat; } |
    grep -E '^ +[0-9]' | sed -n "1,${TOP:-60}p" | cut -c1-200
