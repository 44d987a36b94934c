#!/usr/bin/env bash
# Runs a libFuzzer harness for one parser for N seconds (not part of CI; the seeded fuzz tests
# in SQSTests and PipelineTests are). Findings (crash-*, timeout-*) land in .build/fuzz/TARGET/.
#
#   scripts/fuzz/run.sh xml 60      # the SQS Query (XML) response parser
#   scripts/fuzz/run.sh message 60  # the login message scanner
set -euo pipefail

[ "$#" -ge 1 ] || { echo "usage: $0 xml|message [SECONDS]" >&2; exit 64; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="$1"
SECONDS_TO_RUN="${2:-60}"

case "$TARGET" in
    xml)
        SOURCES=("$ROOT/Sources/SQS/XMLDocumentParser.swift" "$ROOT/scripts/fuzz/XMLDocumentParserTarget.swift")
        SEEDS=(
            '<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle><Body>{&quot;a&quot;:1}</Body><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute></Message></ReceiveMessageResult></ReceiveMessageResponse>'
            '<DeleteMessageBatchResponse><DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>0</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>1</Id><Code>C</Code><SenderFault>true</SenderFault></BatchResultErrorEntry></DeleteMessageBatchResult></DeleteMessageBatchResponse>'
            '<?xml version="1.0"?><!-- c --><ErrorResponse><Error><Code>X</Code><Message><![CDATA[a]]>&#x1F600;&amp;</Message></Error><RequestId>r</RequestId></ErrorResponse>'
        )
        ;;
    message)
        SOURCES=("$ROOT/Sources/Pipeline/Message/JSONObjectScanner.swift" "$ROOT/scripts/fuzz/JSONObjectScannerTarget.swift")
        SEEDS=(
            '{"user_id": "424cdd21-063a-43a7-b91b-7ca1a833afae", "app_version": "2.3.0", "device_type": "android", "ip": "199.172.111.135", "locale": "RU", "device_id": "593-47-5928"}'
            '{"user_id": "u\u005f1", "ip": "::1", "device_id": "d\ud83d\ude00", "x": [1, -2.5e+10, {"a": [true, false, null]}]}'
        )
        ;;
    *)
        echo "unknown target $TARGET (xml or message)" >&2
        exit 64
        ;;
esac

OUT="$ROOT/.build/fuzz/$TARGET"
mkdir -p "$OUT/corpus"
for index in "${!SEEDS[@]}"; do printf '%s' "${SEEDS[$index]}" > "$OUT/corpus/seed-$index"; done
swiftc -O -sanitize=fuzzer,address -parse-as-library "${SOURCES[@]}" -o "$OUT/fuzz-$TARGET"
cd "$OUT"
exec "./fuzz-$TARGET" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 corpus
