/**
 * A store path turned into what an upload needs, built with the real tools and not with the
 * product's code: `nix-store --dump` → the zstd/xz CLI, metadata from `nix-store --query`,
 * and a NarInfoCreate (signed when a key is given). Lets the stand-in be tested on its own.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { NarInfoCreate } from '../../src/api/types.js';
import { sha256Nix } from '../../src/nix/base32.js';
import { fingerprint } from '../../src/nix/fingerprint.js';
import { signBytes, type SecretKey } from '../../src/nix/keys.js';
import { baseNameOf } from '../../src/nix/store-path.js';
import { runOk } from './nix/run.js';

export interface PreparedNar {
  storePath: string;
  /** The compressed NAR. */
  compressed: Buffer;
  compression: 'zst' | 'xz';
  /** Uncompressed NAR bytes (for tamper tests). */
  nar: Buffer;
  info: NarInfoCreate;
  /** The fingerprint the signature covers. */
  fingerprint: string;
}

function capture(command: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${command} exited ${code}: ${err}`))));
    child.stdin.on('error', () => undefined); // EPIPE if the command exits early; its exit code tells
    child.stdin.end(input);
  });
}

export function compress(data: Buffer, compression: 'zst' | 'xz'): Promise<Buffer> {
  return compression === 'zst' ? capture('zstd', ['-3', '-c', '-q'], data) : capture('xz', ['-1', '-c'], data);
}

export async function prepareNar(
  storePath: string,
  options: { compression?: 'zst' | 'xz'; key?: SecretKey } = {},
): Promise<PreparedNar> {
  const compression = options.compression ?? 'zst';
  const nar = await capture('nix-store', ['--dump', storePath]);
  const narHash = sha256Nix(createHash('sha256').update(nar).digest());
  const dbHash = (await runOk('nix-store', ['--query', '--hash', storePath])).trim();
  if (narHash !== dbHash) throw new Error(`nar-fixture: dump of ${storePath} hashes to ${narHash}, the Nix DB says ${dbHash}`);
  const references = (await runOk('nix-store', ['--query', '--references', storePath])).trim().split('\n').filter(Boolean).sort();
  const deriver = (await runOk('nix-store', ['--query', '--deriver', storePath])).trim();
  const compressed = await compress(nar, compression);
  const base = baseNameOf(storePath);
  const fp = fingerprint(storePath, narHash, nar.length, references);
  const info: NarInfoCreate = {
    cStoreHash: base.slice(0, 32),
    cStoreSuffix: base.slice(33),
    cNarHash: narHash,
    cNarSize: nar.length,
    cFileHash: createHash('sha256').update(compressed).digest('hex'),
    cFileSize: compressed.length,
    cReferences: references.map(baseNameOf),
    cDeriver: deriver.startsWith('/nix/store/') ? baseNameOf(deriver) : 'unknown-deriver',
    cSig: options.key ? signBytes(options.key, fp).toString('base64') : null,
  };
  return { storePath, compressed, compression, nar, info, fingerprint: fp };
}
