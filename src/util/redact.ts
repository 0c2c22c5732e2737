/**
 * Secrets known to this run (tokens, secret keys). Every line the CLI prints on failure
 * passes through `redact`, so a server or library that echoes a secret cannot leak it.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('<redacted>');
  return out;
}
