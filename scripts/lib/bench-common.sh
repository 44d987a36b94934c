# Sourced by the benchmark scripts: release binaries and a throwaway database.
#   bench_build PRODUCT...   builds them in release mode (SCRATCH_PATH, default .build); sets BIN
#                            (BENCH_BIN=DIR: use the binaries in DIR, build nothing)
#   bench_database PREFIX    creates a database on $DATABASE_URL's cluster and a work folder,
#                            both removed on exit; exports DATABASE_URL, VAULT_DATABASE_URL,
#                            KEYS_DIR (in the work folder); sets WORK, BASE_URL, PSQL
# Needs ROOT (the repository) and log().

SCRATCH="${SCRATCH_PATH:-$ROOT/.build}"
case "$SCRATCH" in /*) ;; *) SCRATCH="$ROOT/$SCRATCH" ;; esac
PSQL="psql"
[ -n "${FETCHDE_PG_BIN:-}" ] && [ -x "$FETCHDE_PG_BIN/psql" ] && PSQL="$FETCHDE_PG_BIN/psql"

bench_build() {
    if [ -n "${BENCH_BIN:-}" ]; then
        # Binaries built before (e.g. of another commit, to compare): no build.
        BIN="$BENCH_BIN"
        log "using the binaries in $BIN"
        return
    fi
    log "building release binaries (scratch path $SCRATCH)"
    local product
    for product in "$@"; do
        (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2)
    done
    BIN="$(cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
}

bench_database() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
    BENCH_DB="${1//-/_}_$(date +%s)_$$"
    BASE_URL="$DATABASE_URL"
    trap '"$PSQL" "$BASE_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
    "$PSQL" "$BASE_URL" -qc "CREATE DATABASE $BENCH_DB" >/dev/null
    # Same URL, other database (URLs as scripts/services.sh writes them: no query string).
    export DATABASE_URL="${BASE_URL%/*}/$BENCH_DB" VAULT_DATABASE_URL="${BASE_URL%/*}/$BENCH_DB"
    export KEYS_DIR="$WORK/keys"
}
