#!/usr/bin/env bash
# The main job, end to end, on a fresh Debian/Ubuntu machine: installs what is missing,
# builds (release), starts a throwaway PostgreSQL and SQS endpoint (moto_server) on
# 127.0.0.1, creates keys, migrates, sends realistic generated login messages, runs
# `etl run --drain`, prints a summary, and does one audited `vault reveal`. The services and
# the demo's keys are removed at the end, also on failure or Ctrl-C.
#
#   scripts/demo.sh [MESSAGES]        (default 500)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${1:-}" != "--inner" ]; then
    # shellcheck source=lib/install-deps.sh
    . scripts/lib/install-deps.sh
    echo "==> building etl and vault (release)"
    swift build -c release --product etl >/dev/null
    swift build -c release --product vault >/dev/null
    exec scripts/with-services.sh "$0" --inner "${1:-500}"
fi

COUNT="${2:-500}"
BIN="$(swift build -c release --show-bin-path)"
DEMO="$(mktemp -d "${TMPDIR:-/tmp}/fetchde-demo.XXXXXX")"
trap 'rm -rf "$DEMO"' EXIT
export KEYS_DIR="$DEMO/keys"
export SQS_QUEUE_NAME="login-queue"
export METRICS_ADDRESS=off
export ETL_WAIT_TIME_SECONDS=1
export LOG_LEVEL=notice
export VAULT_PASSPHRASE="demo passphrase (set your own)"

echo "==> etl migrate"
"$BIN/etl" migrate
echo "==> vault init (keys in a temporary keys directory, private key passphrase-protected)"
"$BIN/vault" init
echo "==> sending $COUNT generated login messages to the SQS endpoint"
"$BIN/etl" demo-messages --count "$COUNT" --malformed-every 50 --send
echo "==> etl run --drain"
"$BIN/etl" run --drain

q() { psql -X -At -c "$1"; }
echo
echo "==> summary"
echo "rows in user_logins:          $(q 'SELECT count(*) FROM user_logins')"
echo "distinct ip tokens:           $(q 'SELECT count(DISTINCT masked_ip) FROM user_logins')"
echo "distinct device_id tokens:    $(q 'SELECT count(DISTINCT masked_device_id) FROM user_logins')"
echo "ip duplicate groups:          $(q 'SELECT count(*) FROM (SELECT 1 FROM user_logins GROUP BY masked_ip HAVING count(DISTINCT user_id) > 1) g')"
echo "device_id duplicate groups:   $(q 'SELECT count(*) FROM (SELECT 1 FROM user_logins GROUP BY masked_device_id HAVING count(DISTINCT user_id) > 1) g')"
echo "quarantined messages:         $(q 'SELECT count(*) FROM etl_quarantine')"
echo "vault entries:                $(q 'SELECT count(*) FROM pii_vault')"
echo
echo "a few rows (what analysts see):"
psql -X -c "SELECT user_id, device_type, left(masked_ip, 16) || '…' AS masked_ip, left(masked_device_id, 16) || '…' AS masked_device_id, locale, app_version, app_version_raw, create_date FROM user_logins ORDER BY login_id LIMIT 5"

TOKEN="$(q 'SELECT masked_ip FROM user_logins GROUP BY masked_ip HAVING count(DISTINCT user_id) > 1 ORDER BY count(*) DESC, masked_ip LIMIT 1')"
echo "==> vault reveal of the ip behind the largest duplicate group (audited)"
"$BIN/vault" reveal "$TOKEN" --reason "demo: investigate the largest shared-ip group"
echo "==> vault audit --verify"
"$BIN/vault" audit --verify
