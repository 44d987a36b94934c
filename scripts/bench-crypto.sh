#!/usr/bin/env bash
# Crypto throughput of FetchDE next to `openssl speed` on the same machine, in the same run.
#
#   scripts/bench-crypto.sh            # 3 s per benchmark
#   BENCH_SECONDS=5 scripts/bench-crypto.sh
#
# Both sides divide by CPU time (openssl speed's default; fetchde-bench's default), so a busy
# machine slows neither side's figure unfairly. Baselines (OpenSSL 3 syntax):
#   token(ip)          vs  openssl speed -bytes 16 -hmac sha256        (HMAC-SHA256 of 16 bytes)
#   AES-256-GCM seal   vs  openssl speed -bytes 16 -evp aes-256-gcm    (EVP_EncryptUpdate on a keyed
#                          context: no key setup, nonce or tag, so an upper bound, not a peer)
#   HPKE seal          vs  openssl speed ecdhx25519                    (one X25519; a seal needs two)
# Requirement: token(ip) >= 0.5 x the HMAC-SHA256 16-byte rate; the script exits 1 if not met.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${BENCH_SECONDS:-3}"
scratch="${SCRATCH_PATH:-.build-crypto}"
openssl_bin="${OPENSSL:-openssl}"

swift build -c release --scratch-path "$scratch" --product fetchde-bench >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/fetchde-bench"

echo "running fetchde-bench crypto (${seconds}s each)..." >&2
ours="$("$bin" crypto --seconds "$seconds" --tsv)"
ours_rate() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$ours"; }

echo "running openssl speed ($("$openssl_bin" version))..." >&2
# -mr prints "+F:<i>:<name>:<bytes/s for 16-byte blocks>" and "+F5:<i>:<bits>:<ops/s>:<s/op>".
hmac="$("$openssl_bin" speed -mr -seconds "$seconds" -bytes 16 -hmac sha256 2>/dev/null \
    | awk -F: '/^\+F:/ { printf "%.0f", $4 / 16 }')"
gcm="$("$openssl_bin" speed -mr -seconds "$seconds" -bytes 16 -evp aes-256-gcm 2>/dev/null \
    | awk -F: '/^\+F:/ { printf "%.0f", $4 / 16 }')"
x25519="$("$openssl_bin" speed -mr -seconds "$seconds" ecdhx25519 2>/dev/null \
    | awk -F: '/^\+F5:/ { printf "%.0f", $4 }')"

token="$(ours_rate token_ip)"
seal="$(ours_rate aes256gcm_seal_16)"
hpke="$(ours_rate hpke_seal_32)"

row() { awk -v a="$1" -v o="$2" -v b="$3" -v base="$4" \
    'BEGIN { printf "%-26s %14d %14d %8.2f  %s\n", a, o, b, (b > 0 ? o / b : 0), base }'; }
printf '%-26s %14s %14s %8s  %s\n' "operation" "ours ops/s" "openssl ops/s" "ratio" "openssl baseline"
row "token(ip)" "$token" "$hmac" "hmac(sha256) 16 B"
row "AES-256-GCM seal 16 B" "$seal" "$gcm" "evp aes-256-gcm 16 B update"
row "HPKE seal 32 B" "$hpke" "$x25519" "ecdh x25519 (1 op)"

if awk -v t="$token" -v h="$hmac" 'BEGIN { exit !(h > 0 && t >= 0.5 * h) }'; then
    echo "token(ip) >= 0.5 x openssl HMAC-SHA256 16-byte rate: met"
else
    echo "token(ip) >= 0.5 x openssl HMAC-SHA256 16-byte rate: NOT met" >&2
    exit 1
fi
