#!/usr/bin/env bash
# Installs what the build and the local services need, only when something is missing.
#
#   scripts/lib/install-deps.sh        # run directly
#   . scripts/lib/install-deps.sh      # or source it: installs too (scripts/services.sh, test.sh)
#
# apt: postgresql libpq-dev libssl-dev libcurl4-openssl-dev pkg-config (python3, systemd when absent)
# pip: moto[server] (the local SQS endpoint), when `moto_server` cannot be found.
# Quiet on the happy path; installers' output goes to stderr only when they run.

fetchde_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "install-deps: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

fetchde_install_apt_deps() {
    local wanted=(postgresql libpq-dev libssl-dev libcurl4-openssl-dev pkg-config)
    command -v python3 >/dev/null 2>&1 || wanted+=(python3 python3-pip python3-venv)
    # systemd-analyze, for the packaging check of deploy/systemd (scripts/check-packaging.py)
    command -v systemd-analyze >/dev/null 2>&1 || wanted+=(systemd)
    local missing=() pkg
    for pkg in "${wanted[@]}"; do
        if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "install-deps: installing apt packages: ${missing[*]}" >&2
    fetchde_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    fetchde_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || return 1
}

fetchde_have_moto() {
    command -v moto_server >/dev/null 2>&1 && return 0
    python3 -c 'import moto.server' >/dev/null 2>&1
}

fetchde_install_moto() {
    fetchde_have_moto && return 0
    echo "install-deps: installing moto[server] with pip" >&2
    local pip=(python3 -m pip install --quiet --disable-pip-version-check)
    [ "$(id -u)" -ne 0 ] && [ -z "${VIRTUAL_ENV:-}" ] && pip+=(--user)
    if ! "${pip[@]}" 'moto[server]' >&2; then
        # Debian's system Python refuses pip installs (PEP 668) unless told otherwise.
        "${pip[@]}" --break-system-packages 'moto[server]' >&2 || return 1
    fi
    hash -r
    fetchde_have_moto || { echo "install-deps: moto[server] installed but not importable" >&2; return 1; }
}

# promtool (Debian's `prometheus` package): the metrics and alert-rule tests run it.
fetchde_install_promtool() {
    command -v promtool >/dev/null 2>&1 && return 0
    echo "install-deps: installing apt package prometheus (for promtool)" >&2
    fetchde_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    fetchde_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus >&2 || return 1
}

fetchde_install_deps() {
    fetchde_install_apt_deps || return 1
    fetchde_install_moto || return 1
}

# Sourcing or running this file installs what is missing (functions stay defined when sourced).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    fetchde_install_deps
else
    fetchde_install_deps || return 1
fi
