/**
 * The string Nix signs for a narinfo:
 * `1;<store path>;<narHash sha256:base32>;<narSize>;<full reference paths, sorted, comma-joined>`.
 */
export function fingerprint(storePath: string, narHash: string, narSize: number, referencePaths: readonly string[]): string {
  const refs = [...referencePaths].sort();
  return `1;${storePath};${narHash};${narSize};${refs.join(',')}`;
}
