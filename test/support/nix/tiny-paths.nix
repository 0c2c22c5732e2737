# n tiny input-addressed outputs, for makeManyTinyPaths(n, salt, { kind: 'built' }).
{ n, salt }:
builtins.genList (i: derivation {
  name = "cachix-tiny-${toString i}";
  inherit salt;
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo tiny ${toString i} $salt > $out" ];
}) n
