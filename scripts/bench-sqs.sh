#!/usr/bin/env bash
# SQS drain throughput of our libcurl client against boto3, on the same endpoint, queue depth,
# message count N and concurrency K (default N=2000, K=4):
#
#   scripts/bench-sqs.sh                 # starts services itself (scripts/with-services.sh)
#   N=5000 K=8 scripts/bench-sqs.sh      # or with AWS_ENDPOINT_URL already set: uses that
#
# For each run a fresh queue is fed by a paced boto3 producer that keeps the visible depth
# under MAX_DEPTH (default 50; moto slows down with deep queues), while the consumer drains
# N messages with K concurrent receive(10)+DeleteMessageBatch loops. The clients take turns for
# ROUNDS rounds (default 3); the median rate of each is reported with the ratio ours/boto3
# (target ≥ 0.95). FETCHDE_BENCH_BIN overrides the fetchde-bench binary. On moto the emulator
# itself is the bottleneck, so the figures compare client overhead, not SQS capacity.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-2000}"
K="${K:-4}"
MAX_DEPTH="${MAX_DEPTH:-50}"
PROTOCOLS="${PROTOCOLS:-json query}"
ROUNDS="${ROUNDS:-3}"
PY="$ROOT/scripts/bench_sqs_boto3.py"

if [ -z "${AWS_ENDPOINT_URL_SQS:-}${AWS_ENDPOINT_URL:-}" ]; then
    if [ -x "$ROOT/scripts/with-services.sh" ]; then
        exec "$ROOT/scripts/with-services.sh" "$0" "$@"
    fi
    # Fallback: a moto_server of our own for the duration of the run.
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    moto_pid=$!
    trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
fi
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

BIN="${FETCHDE_BENCH_BIN:-}"
if [ -z "$BIN" ]; then
    echo "bench-sqs: building fetchde-bench (release)" >&2
    swift build -c release --scratch-path "$ROOT/.build-bench" --package-path "$ROOT" --product fetchde-bench >&2
    BIN="$(swift build -c release --scratch-path "$ROOT/.build-bench" --package-path "$ROOT" --show-bin-path)/fetchde-bench"
fi

# run NAME CONSUMER...: fresh queue, paced producer in the background, consumer's msgs/s on stdout.
run() {
    local name="$1"; shift
    local queue producer rate
    queue="$(python3 "$PY" create-queue "fetchde-bench-$name-$$-$RANDOM")"
    python3 "$PY" produce --queue-url "$queue" --messages "$N" --max-depth "$MAX_DEPTH" --threads 3 &
    producer=$!
    rate="$("$@" --queue-url "$queue" --messages "$N" --loops "$K" --tsv | awk -F'\t' '$1 == "msgs_per_second" { print $2 }')"
    kill "$producer" 2>/dev/null || true  # normally done already: the consumer drained all N
    wait "$producer" 2>/dev/null || true
    python3 "$PY" delete-queue "$queue" || true
    [ -n "$rate" ] || { echo "bench-sqs: $name produced no rate" >&2; return 1; }
    echo "$rate"
}

echo "bench-sqs: N=$N K=$K max_depth=$MAX_DEPTH rounds=$ROUNDS endpoint=${AWS_ENDPOINT_URL_SQS:-$AWS_ENDPOINT_URL}"
declare -A rates
for round in $(seq "$ROUNDS"); do
    rate="$(run boto3 python3 "$PY" drain)"
    echo "  round $round: boto3 (json) $rate msgs/s"
    rates[boto3]+=" $rate"
    for protocol in $PROTOCOLS; do
        rate="$(run "swift-$protocol" "$BIN" sqs-drain --protocol "$protocol")"
        echo "  round $round: swift ($protocol) $rate msgs/s"
        rates[$protocol]+=" $rate"
    done
done
median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.1f}")' "$@"; }
boto="$(median ${rates[boto3]})"
echo "median of $ROUNDS rounds:"
printf '  %-14s %8s msgs/s\n' "boto3 (json)" "$boto"
for protocol in $PROTOCOLS; do
    ours="$(median ${rates[$protocol]})"
    ratio="$(python3 -c "print(f'{$ours / $boto:.2f}')")"
    printf '  %-14s %8s msgs/s   ratio vs boto3: %sx\n' "swift ($protocol)" "$ours" "$ratio"
done
