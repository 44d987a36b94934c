#!/bin/sh
# Container start: upgrade the schema, create demo keys on first start (compose demo only:
# production mounts keys created by `vault init` on the operator's host), then run.
set -eu
etl migrate
if [ ! -f "${KEYS_DIR:-keys}/token-v1.key" ] && [ "${FETCHDE_DEMO_INIT_KEYS:-0}" = "1" ]; then
    vault init --no-passphrase
fi
exec "$@"
