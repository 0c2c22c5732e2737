# The closure built by makeTestClosure() (closure.ts); kept in step with
# shared/scripts/make-test-closure.sh.
{ salt, bigMB ? "0" }:
let
  sh = name: script: sh' name script { };
  sh' = name: script: extra: derivation ({
    inherit name salt;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
  } // extra);
  greeting = builtins.toFile "cachix-test-greeting-${salt}.txt" "hello from ${salt}\n";
  src = builtins.path { path = ./src; name = "cachix-test-src-${salt}"; };
  data = sh "cachix-test-data" ''printf 'leaf data %s\n' "$salt" > $out'';
  lib = sh "cachix-test-lib" ''
    set -e
    mkdir -p $out/lib/nested/deeper $out/empty-dir
    echo "${data}" > $out/lib/data-path
    echo "${src}" > $out/lib/src-path
    : > $out/lib/empty-file
    seq 1 20000 > $out/lib/nested/deeper/numbers.txt
    ln -s ../data-path $out/lib/nested/rel-link
  '';
  tool = sh "cachix-test-tool" ''
    set -e
    mkdir -p $out/bin
    printf '#!/bin/sh\ncat %s/lib/data-path\n' "${lib}" > $out/bin/cachix-test-tool
    chmod 555 $out/bin/cachix-test-tool
    ln -s cachix-test-tool $out/bin/tool-alias
  '';
  link = sh "cachix-test-link" ''ln -s ${tool}/bin/cachix-test-tool $out'';
  top = sh "cachix-test-top" ''
    set -e
    mkdir -p $out/share
    echo "${link}" > $out/share/link-path
    echo "${greeting}" > $out/share/greeting-path
    echo "$out" > $out/share/self-path
  '';
  big = sh' "cachix-test-big-${bigMB}mb" ''
    set -e
    q=$((bigMB * 1048576 / 4))
    mkdir -p $out
    key=$(printf '%s' "$salt" | sha256sum | cut -c1-64)
    if command -v openssl >/dev/null 2>&1; then
      prng() { openssl enc -aes-256-ctr -K "$key" -iv "$1" < /dev/zero 2>/dev/null; }
    else
      prng() { cat /dev/urandom; }
    fi
    prng 00000000000000000000000000000000 | head -c $q > $out/random.bin
    seq 1 1000000000 | head -c $q > $out/counting.txt
    prng 11111111111111111111111111111111 | base64 -w 76 | head -c $q > $out/base64.txt
    head -c $q /dev/zero > $out/zeros.bin
  '' { inherit bigMB; };
in { inherit top big; }
