#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian/Ubuntu machine to a working binary cache, no account needed:
# installs Nix (Debian's nix-bin, single-user for root) and this project's dependencies, then runs
# scripts/demo-local-cache.sh: build a path, generate-keypair, push to a directory, use, and let
# real Nix substitute the path back, checking its signature.
#
# Usage: bash scripts/quickstart.sh [WORK_DIR]   (default: a new temp dir; nothing else is touched:
#        the cachix config lives in WORK_DIR too, /etc/nix/nix.conf is only written by the Nix install)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

printf '\n\033[1m== %s\033[0m\n' "Installing Nix and Node dependencies"
bash "$root/scripts/install-nix.sh"
(cd "$root" && npm ci --no-audit --no-fund --loglevel=error)

exec bash "$root/scripts/demo-local-cache.sh" "$@"
