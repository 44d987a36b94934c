#!/usr/bin/env bash
# The whole test suite on a fresh Debian/Ubuntu machine: installs what is missing, builds
# everything, starts throwaway PostgreSQL + moto_server on 127.0.0.1, runs every test
# target, and stops the services (also on failure or Ctrl-C). Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=lib/install-deps.sh
. scripts/lib/install-deps.sh
fetchde_install_promtool

echo "==> packaging check (compose, Dockerfile, systemd unit, Kubernetes manifests)"
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
python3 scripts/check-packaging.py

echo "==> building (debug, all targets)"
swift build --build-tests
echo "==> running all tests against local PostgreSQL and moto_server"
scripts/with-services.sh swift test --skip-build "$@"
