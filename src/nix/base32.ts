/** Nix's base-32: its own alphabet (no e o t u) and "reversed" bit order. */
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

export function encodedLength(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

export function toNixBase32(bytes: Uint8Array): string {
  const len = encodedLength(bytes.length);
  let out = '';
  for (let k = len - 1; k >= 0; k--) {
    const b = k * 5;
    const i = b >> 3;
    const j = b & 7;
    const low = bytes[i] ?? 0;
    const high = i + 1 < bytes.length ? (bytes[i + 1] ?? 0) : 0;
    out += ALPHABET[((low >> j) | (high << (8 - j))) & 31];
  }
  return out;
}

export function fromNixBase32(text: string, byteLength: number = Math.floor((text.length * 5) / 8)): Uint8Array {
  if (encodedLength(byteLength) !== text.length) throw new Error(`invalid Nix base-32 length ${text.length}`);
  const bytes = new Uint8Array(byteLength);
  for (let k = 0; k < text.length; k++) {
    const char = text[text.length - 1 - k]!;
    const value = VALUES.get(char);
    if (value === undefined) throw new Error(`invalid Nix base-32 character '${char}'`);
    const b = k * 5;
    const i = b >> 3;
    const j = b & 7;
    bytes[i]! |= (value << j) & 0xff;
    const carry = value >> (8 - j);
    if (i + 1 < byteLength) bytes[i + 1]! |= carry;
    else if (carry !== 0) throw new Error('invalid Nix base-32: non-zero leftover bits');
  }
  return bytes;
}

/** `sha256:<nix base32>` from a raw digest. */
export function sha256Nix(digest: Uint8Array): string {
  return `sha256:${toNixBase32(digest)}`;
}

/**
 * Parses a sha256 hash in any form Nix prints: `sha256:<base32|base16|base64>` or SRI
 * `sha256-<base64>`, returning the raw 32-byte digest.
 */
export function parseSha256(text: string): Uint8Array {
  let body: string;
  if (text.startsWith('sha256:')) body = text.slice(7);
  else if (text.startsWith('sha256-')) body = text.slice(7);
  else throw new Error(`not a sha256 hash: ${text}`);
  if (body.length === 52) return fromNixBase32(body, 32);
  if (body.length === 64 && /^[0-9a-f]+$/i.test(body)) return Uint8Array.from(Buffer.from(body, 'hex'));
  if (body.length === 44) {
    const raw = Buffer.from(body, 'base64');
    if (raw.length === 32) return Uint8Array.from(raw);
  }
  throw new Error(`not a sha256 hash: ${text}`);
}
