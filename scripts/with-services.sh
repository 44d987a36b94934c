#!/usr/bin/env bash
# Runs a command with the local services up, and always stops them afterwards.
#
#   scripts/with-services.sh swift test --scratch-path .build-pg --filter PostgresIntegrationTests
#
# The services get their own state dir (a fresh temporary one unless FETCHDE_SERVICES_DIR is
# set), so concurrent runs in one checkout do not collide with each other or with a
# long-lived `scripts/services.sh start` in .services/. Exits with the command's status.
set -euo pipefail

[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${FETCHDE_SERVICES_DIR:-}" ]; then
    FETCHDE_SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fetchde-services.XXXXXX")"
fi
export FETCHDE_SERVICES_DIR

child=""
cleanup() {
    trap - EXIT INT TERM
    "$ROOT/scripts/services.sh" stop || echo "with-services: stopping the services failed" >&2
}
# On a signal, end the command first (bash would otherwise wait for it), then the services.
on_signal() {
    local status="$1"
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
. "$FETCHDE_SERVICES_DIR/env"

# In the background so signals reach the traps at once; stdin passed on explicitly.
"$@" <&0 &
child=$!
status=0
wait "$child" || status=$?
child=""
exit "$status"
