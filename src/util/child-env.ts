/** Variables that hold secrets: never handed to child processes (nix-store, xz, zstd, …). */
const SECRET_VARIABLES = ['CACHIX_AUTH_TOKEN', 'CACHIX_SIGNING_KEY', 'CACHIX_ACTIVATE_TOKEN', 'CACHIX_AGENT_TOKEN'];

export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean = { ...env };
  for (const name of SECRET_VARIABLES) delete clean[name];
  return clean;
}
