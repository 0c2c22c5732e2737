#!/usr/bin/env bash
# install-nix.sh — set up real Nix for cachix-ts's end-to-end tests and benchmarks.
#
# Installs Debian's own Nix (apt package nix-bin; Nix 2.8.0 on bookworm) as a
# single-user, daemonless store at /nix/store owned by root, plus the compressors the
# tests use (xz-utils, zstd). Nothing is downloaded from nixos.org.
#
# Safe to run again: when everything is in place it changes nothing, and it always ends
# by printing the Nix version (e.g. "nix (Nix) 2.8.0").
#
# Usage:  sudo scripts/install-nix.sh      (as root: scripts/install-nix.sh)
# Env:    CACHIX_TS_APT_QUIET=1            quieter apt output
set -euo pipefail

say() { echo "install-nix: $*" >&2; }
die() { say "$*"; exit 1; }

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "run as root (or install sudo)"
  as_root=(sudo)
fi
root() { "${as_root[@]}" "$@"; }

command -v apt-get >/dev/null 2>&1 || die "this script needs a Debian-like system with apt-get"

# --- packages ---------------------------------------------------------------------
# nix-bin without its recommends: nix-setup-systemd would want a systemd PID 1 and a
# daemon, and we run Nix directly as root instead.
packages=(nix-bin xz-utils zstd curl openssl)
missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  say "packages present: ${packages[*]}"
else
  say "installing: ${missing[*]}"
  quiet=()
  [ "${CACHIX_TS_APT_QUIET:-0}" = 1 ] && quiet=(-qq)
  # Package lists on a fresh machine are missing or stale; refresh only when installing.
  root env DEBIAN_FRONTEND=noninteractive apt-get update "${quiet[@]}" >&2
  root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${quiet[@]}" "${missing[@]}" >&2
fi

# --- /etc/nix/nix.conf --------------------------------------------------------------
read -r -d '' conf <<'CONF' || true
# Written by cachix-ts scripts/install-nix.sh: single-user, daemonless Nix run as root.
# There is no nixbld group: builds run as the calling user.
build-users-group =
# Test builders are plain /bin/sh scripts that use /usr/bin tools; a sandbox would hide them.
sandbox = false
# For `nix path-info`, `nix copy`, `nix store verify`, `nix hash`.
experimental-features = nix-command
# Offline machine: no default cache.nixos.org (DNS failures cost seconds per command).
# Tests pass their own substituters and keys per command.
substituters =
trusted-public-keys =
require-sigs = true
# Never remember narinfo lookups between runs: a remembered 404 would hide a later push.
narinfo-cache-negative-ttl = 0
narinfo-cache-positive-ttl = 0
connect-timeout = 5
CONF

conf_file=/etc/nix/nix.conf
# Only the settings count: a file with the same settings and other comments (e.g. one
# written by an earlier version of this script) is left alone.
settings_of() { grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' | sed 's/[[:space:]]*$//'; }
if [ -f "$conf_file" ] && [ "$(settings_of < "$conf_file")" = "$(printf '%s\n' "$conf" | settings_of)" ]; then
  say "$conf_file already has these settings"
else
  root mkdir -p /etc/nix
  if [ -f "$conf_file" ] && [ ! -e "$conf_file.orig" ]; then
    root cp -p "$conf_file" "$conf_file.orig"
    say "saved the previous config as $conf_file.orig"
  fi
  tmp="$(mktemp)"
  printf '%s\n' "$conf" > "$tmp"
  root install -m 0644 "$tmp" "$conf_file.new"
  rm -f "$tmp"
  root mv -f "$conf_file.new" "$conf_file"
  say "wrote $conf_file"
fi

# --- store --------------------------------------------------------------------------
# The first command that opens the store creates /nix/store and /nix/var/nix/db.
if [ ! -e /nix/var/nix/db/db.sqlite ]; then
  say "initialising the store"
  root nix-store --verify >&2
fi

# --- smoke test ----------------------------------------------------------------------
root nix show-config >/dev/null || die "nix rejects $conf_file"
[ "$(root nix-instantiate --eval --expr '6 * 7')" = 42 ] || die "the Nix evaluator does not work"
root nix-store --gc --print-roots >/dev/null 2>&1 || die "the Nix store does not answer"

nix --version
