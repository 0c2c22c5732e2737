#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian/Ubuntu machine to a working binary cache, no account needed.
#
#   1. installs Nix (Debian's nix-bin, single-user for root) and this project's dependencies;
#   2. builds a small store path with Nix;
#   3. cachix generate-keypair file://$WORK/cache   (a signing key, kept in the config)
#   4. cachix push file://$WORK/cache <path>        (a binary cache in a plain directory)
#   5. cachix use  file://$WORK/cache -O $WORK/nix  (a nix.conf that trusts it)
#   6. real Nix substitutes the path from the cache into a throw-away store, using only
#      that nix.conf, and checks every byte.
#
# Usage: bash scripts/quickstart.sh [WORK_DIR]   (default: a new temp dir; nothing else is touched:
#        the cachix config lives in WORK_DIR too, /etc/nix/nix.conf is only written by the Nix install)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/cachix-quickstart.XXXXXX)}"
mkdir -p "$work"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Installing Nix and Node dependencies"
bash "$root/scripts/install-nix.sh"
(cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
cachix() { node "$root/bin/cachix" -c "$work/cachix.dhall" "$@"; }

step "Building a store path with Nix"
cat > "$work/hello.nix" <<NIX
derivation {
  name = "cachix-quickstart-hello";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo 'hello from a self-hosted cache' > \$out" ];
  stamp = "$(basename "$work")";
}
NIX
path="$(nix-build "$work/hello.nix" --no-out-link)"
echo "$path"

cache="file://$work/cache"
step "cachix generate-keypair $cache"
cachix generate-keypair "$cache"

step "cachix push $cache $path"
cachix push "$cache" "$path"

step "cachix use $cache -O $work/nix"
cachix use "$cache" -O "$work/nix"
cat "$work/nix/nix.conf"

step "Nix substitutes $path from the cache (only the nix.conf above is used)"
XDG_CACHE_HOME="$work/xdg-cache" NIX_USER_CONF_FILES="$work/nix/nix.conf" \
  nix-store --store "$work/consumer" -r "$path"
XDG_CACHE_HOME="$work/xdg-cache" nix-store --store "$work/consumer" --verify --check-contents
echo
echo "Done: $path came back from $cache, signature checked by Nix."
