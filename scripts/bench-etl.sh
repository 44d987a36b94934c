#!/usr/bin/env bash
# The pipeline's benchmarks (figures, not pass/fail), in one run on local services:
#  1. end-to-end through an SQS endpoint into PostgreSQL. With ../shared/bench/sqs_fast.py (a
#     fast in-memory SQS; --latency-ms like a real SQS round trip), for each latency in
#     LATENCIES (default "0 20"): a backlog of FAST_N messages drained by our bare SQS client
#     (fetchde-bench sqs-drain: receive+delete loops, no database) and by `etl run --drain`
#     with the same receive concurrency (ETL_MAX_RECEIVE_LOOPS), msgs/s from launch to the
#     last delete, etl's CPU µs per message and peak RSS; then the shallow-queue latency
#     (send → the commit's transaction start, PROBE_N messages 100 ms apart into an idle
#     `etl run`). Without it, on stock moto (which caps any consumer at ~120 msgs/s):
#     N messages with `etl run` vs a pure
#     boto3 receive+delete drain of the same endpoint (its ceiling), the same paced producer
#     keeping the queue shallow (moto slows down with depth), both timed from the producer's
#     launch to the Nth delete; plus etl's CPU seconds per 1,000 messages and its peak RSS;
#  2. `etl ingest` of INGEST_N generated messages vs psql COPY of the same rows, precomputed,
#     into the same schema with the same indexes.
#
#   scripts/bench-etl.sh            (N=2000 INGEST_N=1000000 K=4 PARTS="e2e ingest";
#                                    sqs_fast: FAST_N=20000 LATENCIES="0 20" PROBE_N=30)
#   PARTS=e2e scripts/bench-etl.sh  (only part 1)
#   BIN_DIR=DIR scripts/bench-etl.sh  (etl and vault from DIR instead of a release build)
#   PROFILE=1 PARTS=ingest scripts/bench-etl.sh  (also: where the time of etl ingest goes)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${AWS_ENDPOINT_URL:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
    exec "$ROOT/scripts/with-services.sh" "$0" "$@"
fi
N="${N:-2000}"
INGEST_N="${INGEST_N:-1000000}"
K="${K:-4}"
PARTS=" ${PARTS:-e2e ingest} "
PY="$ROOT/scripts/bench_sqs_boto3.py"
cd "$ROOT"
if [ -n "${BIN_DIR:-}" ]; then   # compare builds: BIN_DIR=DIR holding etl and vault
    BIN="$BIN_DIR"
else
    swift build -c release --product etl >&2
    swift build -c release --product vault >&2
    swift build -c release --product fetchde-bench >&2
    BIN="$(swift build -c release --show-bin-path)"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fetchde-bench.XXXXXX")"
sqs_fast=""
trap '[ -z "$sqs_fast" ] || kill "$sqs_fast" 2>/dev/null; rm -rf "$WORK"' EXIT
export KEYS_DIR="$WORK/keys" METRICS_ADDRESS=off LOG_LEVEL=warning ETL_WAIT_TIME_SECONDS=1 ETL_RECEIVE_LOOPS="$K"
BASE_URL="$DATABASE_URL"
db() { psql -X -q -d "$BASE_URL" -c "CREATE DATABASE ${1}_$$"; echo "${BASE_URL%/*}/${1}_$$"; }
export DATABASE_URL VAULT_DATABASE_URL

SQS_FAST="${SQS_FAST:-$ROOT/../shared/bench/sqs_fast.py}"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1 /proc/loadavg; }

if [[ "$PARTS" == *" e2e "* ]] && [ -f "$SQS_FAST" ]; then
FAST_N="${FAST_N:-20000}"
PROBE_N="${PROBE_N:-30}"
LOOPS="${ETL_MAX_RECEIVE_LOOPS:-32}"
echo "== 1. end to end through sqs_fast.py: a backlog of $FAST_N messages; receive loops $K..$LOOPS (bare drain: $LOOPS loops)"
for latency in ${LATENCIES:-0 20}; do
    DATABASE_URL="$(db "bench_fast${latency}")"; VAULT_DATABASE_URL="$DATABASE_URL"
    rm -rf "$KEYS_DIR"
    "$BIN/etl" migrate >/dev/null
    "$BIN/vault" init --no-passphrase >/dev/null
    sqs_port="$(free_port)"
    python3 "$SQS_FAST" -H 127.0.0.1 -p "$sqs_port" --latency-ms "$latency" > "$WORK/sqs_fast.log" 2>&1 &
    sqs_fast=$!
    until curl -fs "http://127.0.0.1:$sqs_port/" >/dev/null 2>&1; do sleep 0.1; done
    (
    export AWS_ENDPOINT_URL="http://127.0.0.1:$sqs_port" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port" ETL_MAX_RECEIVE_LOOPS="$LOOPS"
    fill() { local q; q="$(python3 "$PY" create-queue "$1-$$")"; python3 "$PY" produce --queue-url "$q" --messages "$FAST_N" --max-depth 0 --threads 16; echo "$q"; }
    # The bare SQS drain: receive(10) + DeleteMessageBatch loops, no database.
    queue="$(fill "drain$latency" | tail -1)"
    load_before="$(load)"
    /usr/bin/time -f "%U %S %M" -o "$WORK/drain-time" "$BIN/fetchde-bench" sqs-drain --queue-url "$queue" \
        --messages "$FAST_N" --loops "$LOOPS" --tsv > "$WORK/drain"
    # etl run --drain of the same backlog: timed from launch to the last delete.
    queue="$(fill "etl$latency" | tail -1)"
    mport="$(free_port)"
    start=$(date +%s.%N)
    SQS_QUEUE_URL="$queue" METRICS_ADDRESS="127.0.0.1:$mport" /usr/bin/time -f "%U %S %M" -o "$WORK/etl-time" "$BIN/etl" run --drain >/dev/null &
    etl=$!
    count=0
    while [ "$count" -lt "$FAST_N" ] && kill -0 "$etl" 2>/dev/null; do
        sleep 0.02
        count="$(curl -fs "http://127.0.0.1:$mport/metrics" | awk '$1 == "etl_messages_deleted_total" { print int($2) }')"; count="${count:-0}"
    done
    end=$(date +%s.%N)
    wait "$etl" || echo "  etl run --drain failed" >&2
    load_after="$(load)"
    rows="$(psql -X -At -d "$DATABASE_URL" -c 'SELECT count(*) FROM user_logins')"
    # Shallow queue: one message every 100 ms into an idle `etl run`; send → commit.
    queue="$(python3 "$PY" create-queue "probe$latency-$$")"
    SQS_QUEUE_URL="$queue" "$BIN/etl" run &
    etl=$!
    sleep 2
    python3 "$PY" probe --queue-url "$queue" --messages "$PROBE_N" --interval 0.1 > "$WORK/probe"
    for _ in $(seq 1 100); do
        [ "$(psql -X -At -d "$DATABASE_URL" -c "SELECT count(*) FROM user_logins WHERE user_id LIKE 'probe%'")" -ge "$PROBE_N" ] && break
        sleep 0.1
    done
    kill -TERM "$etl"; wait "$etl" || true
    psql -X -At -F $'\t' -d "$DATABASE_URL" -c "SELECT message_id, extract(epoch FROM ingested_at) FROM user_logins WHERE user_id LIKE 'probe%'" > "$WORK/probe-db"
    read -r user sys rss < "$WORK/etl-time"
    read -r duser dsys drss < "$WORK/drain-time"
    python3 - "$latency" "$FAST_N" "$rows" "$start" "$end" "$user" "$sys" "$rss" "$(cut -f2 "$WORK/drain")" "$duser" "$dsys" \
        "$load_before" "$load_after" "$WORK/probe" "$WORK/probe-db" <<'PY'
import statistics, sys
latency, n, rows, start, end, user, sys_, rss, drain, duser, dsys, lb, la, probe, probedb = sys.argv[1:]
n = int(n)
rate = n / (float(end) - float(start))
sent = dict(line.split("\t") for line in open(probe).read().split("\n") if line)
committed = dict(line.split("\t") for line in open(probedb).read().split("\n") if line)
lat = sorted((float(committed[m]) - float(t)) * 1000 for m, t in sent.items() if m in committed)
print(f"  latency {latency} ms (load average {lb} before, {la} after):")
print(f"    bare SQS drain (fetchde-bench, no database): {float(drain):8.0f} msgs/s, CPU {(float(duser) + float(dsys)) / n * 1e6:5.1f} µs/msg")
print(f"    etl run --drain (SQS -> PostgreSQL):         {rate:8.0f} msgs/s, CPU {(float(user) + float(sys_)) / n * 1e6:5.1f} µs/msg, "
      f"peak RSS {int(rss) / 1024:.1f} MB, ratio {rate / float(drain):.2f}" + ("" if int(rows) == n else f"  ROWS {rows} != {n}"))
if lat:
    print(f"    shallow queue, send -> commit ({len(lat)} of {len(sent)} messages): median {statistics.median(lat):.0f} ms, "
          f"max {lat[-1]:.0f} ms")
PY
    )
    kill "$sqs_fast"; wait "$sqs_fast" 2>/dev/null || true
done
elif [[ "$PARTS" == *" e2e "* ]]; then
echo "   (../shared/bench/sqs_fast.py not found: stock moto, which caps any consumer at ~120 msgs/s)"
DATABASE_URL="$(db bench_e2e)"; VAULT_DATABASE_URL="$DATABASE_URL"
"$BIN/etl" migrate >/dev/null
"$BIN/vault" init --no-passphrase >/dev/null

echo "== 1. end to end through the SQS endpoint: N=$N, K=$K receive loops"
# Both sides on the same clock: from launching the producer (so both include its start-up)
# until the consumer has deleted all N messages (boto3: the drain exits after its Nth
# delete; etl: its etl_messages_deleted_total counter, i.e. committed and deleted).
# moto 5.x can lose a message that is sent while another is being deleted (DeleteMessage
# rebuilds the queue's list without its lock): such a run never reaches N and is reported
# as invalid instead of hanging.
queue="$(python3 "$PY" create-queue "bench-boto3-$$")"
start=$(date +%s.%N)
python3 "$PY" produce --queue-url "$queue" --messages "$N" --max-depth 50 --threads 3 &
python3 "$PY" drain --queue-url "$queue" --messages "$N" --loops "$K" --tsv --idle-exit 20 > "$WORK/drain" 2> "$WORK/drain.err"
ceiling_end=$(date +%s.%N)
lost=""
if grep -q "stopped with" "$WORK/drain.err"; then lost="boto3 drain: $(cat "$WORK/drain.err")"; fi
wait
ceiling_start=$start
queue="$(python3 "$PY" create-queue "bench-etl-$$")"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
deleted() { curl -fs "http://127.0.0.1:$port/metrics" | awk '$1 == "etl_messages_deleted_total" { print int($2) }'; }
start=$(date +%s.%N)
python3 "$PY" produce --queue-url "$queue" --messages "$N" --max-depth 50 --threads 3 &
producer=$!
SQS_QUEUE_URL="$queue" METRICS_ADDRESS="127.0.0.1:$port" /usr/bin/time -f "%U %S %M" -o "$WORK/time" "$BIN/etl" run &
etl=$!
count=0 last_count=-1 last_change=$SECONDS
until [ "$count" -ge "$N" ]; do
    sleep 0.05
    count="$(deleted)"; count="${count:-0}"
    if [ "$count" != "$last_count" ]; then last_count=$count last_change=$SECONDS; fi
    if [ $((SECONDS - last_change)) -ge 20 ]; then lost="$lost etl: stopped at $count of $N deleted"; break; fi
done
end=$(date +%s.%N)
wait "$producer"
pkill -TERM -P "$etl"; wait "$etl" || true   # SIGTERM to etl, the child of time
[ -n "$lost" ] || [ "$(psql -X -At -d "$DATABASE_URL" -c 'SELECT count(*) FROM user_logins')" -eq "$N" ] || echo "  etl: row count is not $N" >&2
read -r user sys rss < "$WORK/time"
python3 - "$N" "$start" "$end" "$ceiling_start" "$ceiling_end" "$user" "$sys" "$rss" <<'PY'
import sys
n, start, end, cstart, cend, user, sys_, rss = sys.argv[1:]
rate = int(n) / (float(end) - float(start))
ceiling = int(n) / (float(cend) - float(cstart))
print(f"  boto3 receive+delete drain (ceiling): {ceiling:8.1f} msgs/s")
print(f"  etl run (SQS -> PostgreSQL):          {rate:8.1f} msgs/s   ratio {rate / ceiling:.2f} (target >= 0.9)")
print(f"  etl CPU: {(float(user) + float(sys_)) / int(n) * 1000:.3f} s per 1,000 messages; peak RSS {int(rss) / 1024:.1f} MB (target < 100 MB)")
PY
[ -z "$lost" ] || echo "  INVALID RUN: the endpoint lost messages (moto's send/delete race), rerun: $lost"
fi

[[ "$PARTS" == *" ingest "* ]] || exit 0
echo "== 2. etl ingest of $INGEST_N messages vs psql COPY of the same rows"
"$BIN/etl" demo-messages --count "$INGEST_N" --malformed-every 0 > "$WORK/messages.jsonl"
DATABASE_URL="$(db bench_ingest)"; VAULT_DATABASE_URL="$DATABASE_URL"
rm -rf "$KEYS_DIR"
"$BIN/etl" migrate >/dev/null
"$BIN/vault" init --no-passphrase >/dev/null
/usr/bin/time -f "%e %U %S %M" -o "$WORK/ingest-time" "$BIN/etl" ingest "$WORK/messages.jsonl"
COLS="message_id, user_id, device_type, masked_ip, masked_device_id, locale, app_version, app_version_raw, create_date, token_key_version"
psql -X -q -d "$DATABASE_URL" -c "\\copy (SELECT $COLS FROM user_logins) TO '$WORK/rows.tsv'"
COPY_URL="$(db bench_copy)"
DATABASE_URL="$COPY_URL" "$BIN/etl" migrate >/dev/null
copy_start=$(date +%s.%N)
psql -X -q -d "$COPY_URL" -c "\\copy user_logins ($COLS) FROM '$WORK/rows.tsv'"
copy_end=$(date +%s.%N)
read -r elapsed iuser isys irss < "$WORK/ingest-time"
python3 - "$INGEST_N" "$elapsed" "$copy_start" "$copy_end" "$iuser" "$isys" "$irss" <<'PY'
import sys
n, elapsed, cs, ce, user, sys_, rss = sys.argv[1:]
n = int(n); ingest = n / float(elapsed); copy = n / (float(ce) - float(cs))
print(f"  etl ingest: {ingest:10.0f} rows/s ({float(elapsed):.1f} s; etl CPU {float(user) + float(sys_):.1f} s, peak RSS {int(rss) / 1024:.1f} MB)")
print(f"  psql COPY:  {copy:10.0f} rows/s ({float(ce) - float(cs):.1f} s)")
print(f"  ratio {ingest / copy:.2f} (target >= 0.5)")
PY

[ -n "${PROFILE:-}" ] || exit 0
# PROFILE=1: where the time of `etl ingest` goes, on a fresh database: the time of each COPY
# (from etl's debug log), the CPU of etl and of its PostgreSQL backend, and their top frames
# (perf, when installed; etl and the backend are sampled separately).
echo "== 2b. profile of etl ingest ($INGEST_N messages)"
DATABASE_URL="$(db bench_profile)"; VAULT_DATABASE_URL="$DATABASE_URL"
rm -rf "$KEYS_DIR"
"$BIN/etl" migrate >/dev/null
"$BIN/vault" init --no-passphrase >/dev/null
PERF=""; command -v perf >/dev/null && PERF="perf record -q -F 499 -g"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
/usr/bin/time -f "%e %U %S" -o "$WORK/profile-time" ${PERF:+$PERF -o "$WORK/etl.perf" --} \
    "$BIN/etl" ingest --log-level debug "$WORK/messages.jsonl" >/dev/null 2> "$WORK/profile.log" &
runner=$!
backend=""
while [ -z "$backend" ] && kill -0 "$runner" 2>/dev/null; do
    sleep 0.05
    backend="$(psql -X -At -d "$DATABASE_URL" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'fetchde-etl' AND datname = current_database() LIMIT 1")"
done
pgperf=""
if [ -n "$PERF" ] && [ -n "$backend" ]; then $PERF -p "$backend" -o "$WORK/pg.perf" 2>/dev/null & pgperf=$!; fi
backend_ticks=0
while kill -0 "$runner" 2>/dev/null; do
    t="$(ticks "$backend")"; [ "$t" -gt 0 ] 2>/dev/null && backend_ticks=$t
    sleep 0.2
done
wait "$runner" || true
if [ -n "$pgperf" ]; then kill -INT "$pgperf" 2>/dev/null || true; wait "$pgperf" || true; fi
read -r pelapsed puser psys < "$WORK/profile-time"
frames() {  # inclusive share of the first frame matching each pattern: frames PERFDATA LABEL=PATTERN...
    local data=$1; shift
    [ -s "$data" ] || return 0
    perf report -i "$data" --children --sort sym -g none --stdio 2>/dev/null | { swift demangle --simplified 2>/dev/null || cat; } |
        python3 -c '
import re, sys
rows = [re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[.\]\s+(.*)", l) for l in sys.stdin]
rows = [(float(m.group(1)), m.group(3)) for m in rows if m]
print("    " + ", ".join(f"{label} {next((p for p, s in rows if pattern in s), 0.0):.0f} %" for label, pattern in (a.split("=", 1) for a in sys.argv[1:])))' "$@"
}
python3 - "$WORK/profile.log" "$pelapsed" "$puser" "$psys" "$backend_ticks" <<'PY'
import re, sys, datetime
log, elapsed, user, sys_, backend_ticks = sys.argv[1:]
events = []
for line in open(log):
    m = re.match(r"(\S+) debug \S+: postgres copy finished .*rows=(\d+)", line)
    if m:
        events.append((datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp(), int(m.group(2))))
logins = vault = 0.0
login_rows = vault_rows = 0
for i in range(0, len(events) - 1, 2):  # per batch: the logins COPY, then the vault COPY
    if i > 0:
        logins += events[i][0] - events[i - 1][0]
    vault += events[i + 1][0] - events[i][0]
    login_rows += events[i][1]; vault_rows += events[i + 1][1]
print(f"  wall {float(elapsed):.1f} s (under perf); etl CPU {float(user) + float(sys_):.1f} s; its PostgreSQL backend CPU {int(backend_ticks) / 100:.1f} s")
print(f"  logins phase (commit + COPY of {login_rows:,} rows): {logins:.1f} s; vault phase (COPY of {vault_rows:,} new entries): {vault:.1f} s")
PY
if [ -s "$WORK/etl.perf" ]; then
    echo "  etl, share of its CPU (inclusive):"
    frames "$WORK/etl.perf" "COPY text encoding=PostgresCopyWriter.appendRow" "transform=BatchTransformer.transform" \
        "JSON parse=LoginMessageParser.parse" "HMAC tokens=Tokenizer.token" "AES-GCM=AES256GCM.seal" \
        "seen-values cache=SeenValues.compact" "message ids (SHA-256, hex)=FileIngest.messageID" "line reading=LineReader.next"
fi
if [ -s "$WORK/pg.perf" ]; then
    echo "  PostgreSQL backend, share of its CPU (inclusive):"
    frames "$WORK/pg.perf" "B-tree index inserts=ExecInsertIndexTuples" "of which key compares=_bt_compare" \
        "buffer lookups=ReadBufferExtended" "COPY parsing=NextCopyFrom" "WAL=XLogInsert" "heap inserts=heap_multi_insert"
fi
