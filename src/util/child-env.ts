/** Variables that hold secrets: never handed to child processes (nix-store, xz, zstd, …). */
const SECRET_VARIABLES = ['CACHIX_AUTH_TOKEN', 'CACHIX_SIGNING_KEY', 'CACHIX_ACTIVATE_TOKEN', 'CACHIX_AGENT_TOKEN'];

let cached: NodeJS.ProcessEnv | undefined;

/** The process environment without secrets (computed once: pushes spawn many children). */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env === process.env && cached) return cached;
  const clean = { ...env };
  for (const name of SECRET_VARIABLES) delete clean[name];
  if (env === process.env) cached = clean;
  return clean;
}
