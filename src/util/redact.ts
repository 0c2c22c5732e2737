/**
 * Secrets known to this run (tokens, secret keys). Every line the CLI prints on failure
 * passes through `redact`, so a server or library that echoes a secret cannot leak it.
 */
const secrets = new Set<string>();

/** The shortest text worth redacting: shorter values would mangle ordinary output. */
const MIN_LENGTH = 4;

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_LENGTH) return;
  secrets.add(value);
  // A Nix key `name:base64` may be quoted without its name; redact the key material alone too.
  const colon = value.lastIndexOf(':');
  if (colon >= 0 && value.length - colon - 1 >= 16) secrets.add(value.slice(colon + 1));
}

/** Credentials in HTTP header syntax, whoever echoes them: redacted even when the secret was never registered. */
const AUTH_HEADER_VALUE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

export function redact(text: string): string {
  let out = text.replace(AUTH_HEADER_VALUE, '$1 <redacted>');
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('<redacted>');
  return out;
}
