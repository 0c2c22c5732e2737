#!/usr/bin/env bash
# demo-local-cache.sh — the README's quick start without the installs: a self-hosted binary cache
# in a plain directory, with no server and no account. Needs Nix and a built checkout
# (scripts/quickstart.sh does both first; the test suite runs this script as it is).
#
#   1. builds a small store path with Nix;
#   2. cachix generate-keypair file://$WORK/cache   (a signing key, kept in $WORK/cachix.dhall)
#   3. cachix push file://$WORK/cache <path>        (NARs and signed narinfos in the directory)
#   4. cachix use  file://$WORK/cache -O $WORK/nix  (a nix.conf that trusts it)
#   5. real Nix substitutes the path into a throw-away store using only that nix.conf, and checks it.
#
# Usage: bash scripts/demo-local-cache.sh [WORK_DIR]   (default: a new temp dir; nothing else is touched)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/cachix-demo.XXXXXX)}"
mkdir -p "$work"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
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
