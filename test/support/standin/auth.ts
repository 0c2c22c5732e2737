/**
 * Who is calling: Cachix accepts `Authorization: Bearer <token>` (an empty token means
 * anonymous, spec §1.2) and HTTP Basic where only the password (the token) matters — that
 * is what Nix sends from a netrc entry.
 */
import type { IncomingMessage } from 'node:http';
import type { Permission } from './types.js';

export interface Caller {
  /** The presented token, or undefined for anonymous callers. */
  token: string | undefined;
  /** The header was present but could not be parsed. */
  malformed: boolean;
}

export function callerOf(req: IncomingMessage): Caller {
  const header = req.headers.authorization;
  if (header === undefined) return { token: undefined, malformed: false };
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') return { token: rest === '' ? undefined : rest, malformed: false };
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { token: undefined, malformed: true };
    const password = decoded.slice(colon + 1);
    return { token: password === '' ? undefined : password, malformed: false };
  }
  return { token: undefined, malformed: true };
}

const RANK: Record<Permission, number> = { Read: 1, Write: 2, Admin: 3 };

export function atLeast(have: Permission | undefined, need: Permission): boolean {
  return have !== undefined && RANK[have] >= RANK[need];
}

/** Tokens and their per-cache permissions. Unknown tokens are treated as anonymous. */
export class TokenRegistry {
  private tokens = new Map<string, Map<string, Permission>>();

  add(token: string, permissions: Record<string, Permission>): void {
    const entry = this.tokens.get(token) ?? new Map<string, Permission>();
    for (const [cache, permission] of Object.entries(permissions)) entry.set(cache, permission);
    this.tokens.set(token, entry);
  }

  known(token: string | undefined): boolean {
    return token !== undefined && this.tokens.has(token);
  }

  /** Explicit permission of a token on a cache (undefined when none). */
  permission(token: string | undefined, cache: string): Permission | undefined {
    return token === undefined ? undefined : this.tokens.get(token)?.get(cache);
  }
}
