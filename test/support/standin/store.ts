/**
 * The stand-in's state: caches (with their keys), published narinfos and NARs on disk, and
 * multipart uploads in progress. Publication is the only place a narinfo is written, and it
 * writes the NAR first, so Nix never sees a narinfo without its NAR.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NarInfoCreate, PinCreate } from '../../../src/api/types.js';
import { sha256Nix } from '../../../src/nix/base32.js';
import { fingerprint } from '../../../src/nix/fingerprint.js';
import { generateSecretKey, publicKeyObject, signBytes, verifyBytes, type SecretKey } from '../../../src/nix/keys.js';
import { parseNarInfo, renderNarInfo, type NarInfo } from '../../../src/nix/narinfo.js';
import { badRequest } from './http.js';
import { hashDecompressed, type Compression, type Digest } from './nar-check.js';

export interface CacheRecord {
  name: string;
  isPublic: boolean;
  preferredCompressionMethod: 'ZSTD' | 'XZ';
  githubUsername: string;
  /** Server-held secret key (managed-key cache). */
  signer: SecretKey | undefined;
  /** Nix key name and raw public key, for managed and self-signed caches alike. */
  keyName: string | undefined;
  publicKey: Buffer | undefined;
  dir: string;
  /** Set once the cache's Nix-facing listener is up. */
  uri: string;
  host: string;
  port: number;
}

/**
 * Bytes the stand-in holds: small ones in memory, as an object store keeps them off any local
 * disk (a file per small part would bill the server's file system to the client in benchmarks);
 * large ones in a file, so memory stays flat whatever the NAR's size.
 */
export type StoredBytes = { data: Buffer } | { file: string };

/** Parts up to this size are kept in memory. */
export const IN_MEMORY_PART_BYTES = 1024 * 1024;

export interface UploadPart {
  body: StoredBytes;
  size: number;
  /** Quoted hex MD5, as S3 sends it. */
  eTag: string;
}

export interface MultipartUpload {
  narId: string;
  uploadId: string;
  cache: string;
  compression: Compression;
  /** Where large parts are kept; made when the first one arrives. */
  dir: string;
  dirMade: boolean;
  parts: Map<number, UploadPart>;
}

/** A NAR sent through the legacy `POST .../nar` route, waiting for its narinfo. */
export interface LegacyNar {
  file: string;
  compression: Compression;
  digest: Digest;
}

const EXTENSION: Record<Compression, string> = { zst: 'zst', xz: 'xz' };
const NARINFO_COMPRESSION: Record<Compression, string> = { zst: 'zstd', xz: 'xz' };

export class StandInStore {
  readonly caches = new Map<string, CacheRecord>();
  readonly uploads = new Map<string, MultipartUpload>();
  readonly legacyNars = new Map<string, LegacyNar>(); // key: `${cache}/${hex file hash}`
  /** Pins received per cache, oldest first (a name pinned again is a new revision, as on Cachix). */
  private readonly pinsByCache = new Map<string, PinCreate[]>();
  /** Published store hashes per cache: answers bulk queries without touching the disk. */
  private readonly published = new Map<string, Set<string>>();
  /** Verifying KeyObjects by raw public key (a cache's key can be replaced over the API). */
  private readonly verifiers = new WeakMap<Buffer, KeyObject>();

  constructor(
    readonly dataDir: string,
    readonly hostLabel: string,
    /** Decompress every NAR on complete and check NarHash/NarSize (off only for benchmarks of the client). */
    readonly verifyNar: boolean = true,
  ) {
    mkdirSync(join(dataDir, 'caches'), { recursive: true });
    mkdirSync(join(dataDir, 'uploads'), { recursive: true });
    mkdirSync(join(dataDir, 'tmp'), { recursive: true });
  }

  defaultKeyName(cache: string): string {
    return `${cache}.${this.hostLabel}-1`;
  }

  tempPath(label: string): string {
    return join(this.dataDir, 'tmp', `${label}-${randomBytes(8).toString('hex')}`);
  }

  createCache(init: {
    name: string;
    isPublic: boolean;
    preferredCompressionMethod: 'ZSTD' | 'XZ';
    githubUsername: string;
    managedKey: boolean;
    publicKey: { name: string; key: Buffer } | undefined;
  }): CacheRecord {
    const dir = join(this.dataDir, 'caches', init.name);
    mkdirSync(join(dir, 'nar'), { recursive: true });
    mkdirSync(join(dir, 'narinfo'), { recursive: true });
    const signer = init.managedKey ? generateSecretKey(this.defaultKeyName(init.name)) : undefined;
    const record: CacheRecord = {
      name: init.name,
      isPublic: init.isPublic,
      preferredCompressionMethod: init.preferredCompressionMethod,
      githubUsername: init.githubUsername,
      signer,
      keyName: signer ? this.defaultKeyName(init.name) : init.publicKey?.name,
      publicKey: signer ? signer.publicKey : init.publicKey?.key,
      dir,
      uri: '',
      host: '',
      port: 0,
    };
    this.caches.set(init.name, record);
    // A reused dataDir may already hold narinfos of this cache.
    const existing = readdirSync(join(dir, 'narinfo')).filter((f) => /^[0-9a-z]{32}\.narinfo$/.test(f));
    this.published.set(init.name, new Set(existing.map((f) => f.slice(0, 32))));
    return record;
  }

  addPin(cacheName: string, pin: PinCreate): void {
    const list = this.pinsByCache.get(cacheName) ?? [];
    list.push(pin);
    this.pinsByCache.set(cacheName, list);
  }

  pins(cacheName: string): readonly PinCreate[] {
    return this.pinsByCache.get(cacheName) ?? [];
  }

  publicSigningKeys(cache: CacheRecord): string[] {
    return cache.keyName && cache.publicKey ? [`${cache.keyName}:${cache.publicKey.toString('base64')}`] : [];
  }

  /** Self-signed: has a public key but no server-held secret (anyone may upload signed NARs). */
  isSelfSigned(cache: CacheRecord): boolean {
    return cache.publicKey !== undefined && cache.signer === undefined;
  }

  narinfoFile(cache: CacheRecord, storeHash: string): string {
    return join(cache.dir, 'narinfo', `${storeHash}.narinfo`);
  }

  narFile(cache: CacheRecord, fileName: string): string {
    return join(cache.dir, 'nar', fileName);
  }

  narinfoText(cacheName: string, storeHash: string): string | undefined {
    const cache = this.caches.get(cacheName);
    if (!cache || !this.published.get(cacheName)?.has(storeHash)) return undefined;
    try {
      return readFileSync(this.narinfoFile(cache, storeHash), 'utf8');
    } catch {
      return undefined;
    }
  }

  narinfo(cacheName: string, storeHash: string): NarInfo | undefined {
    const text = this.narinfoText(cacheName, storeHash);
    return text === undefined ? undefined : parseNarInfo(text);
  }

  listNarinfos(cacheName: string): string[] {
    const cache = this.caches.get(cacheName);
    if (!cache) return [];
    return readdirSync(join(cache.dir, 'narinfo'))
      .filter((f) => f.endsWith('.narinfo'))
      .map((f) => f.slice(0, -'.narinfo'.length))
      .sort();
  }

  async newUpload(cache: string, compression: Compression): Promise<MultipartUpload> {
    const narId = randomUUID();
    const upload: MultipartUpload = {
      narId,
      uploadId: randomBytes(24).toString('base64url'),
      cache,
      compression,
      dir: join(this.dataDir, 'uploads', narId),
      dirMade: false,
      parts: new Map(),
    };
    this.uploads.set(narId, upload);
    return upload;
  }

  /** The directory for `upload`'s large parts, made on first use. */
  async partsDir(upload: MultipartUpload): Promise<string> {
    if (!upload.dirMade) {
      await mkdir(upload.dir, { recursive: true });
      upload.dirMade = true;
    }
    return upload.dir;
  }

  async discardUpload(upload: MultipartUpload): Promise<void> {
    this.uploads.delete(upload.narId);
    if (upload.dirMade) await rm(upload.dir, { recursive: true, force: true });
  }

  /**
   * Checks an uploaded compressed NAR against its NarInfoCreate and publishes it: NAR file
   * first, then the narinfo (temp + rename). Throws a 400 HttpError on any mismatch;
   * a file `compressed` is consumed (moved) only on success.
   */
  async publish(cache: CacheRecord, info: NarInfoCreate, compressed: StoredBytes, compression: Compression, digest: Digest): Promise<void> {
    if (digest.size !== info.cFileSize) {
      throw badRequest(`cFileSize ${info.cFileSize} does not match the ${digest.size} bytes uploaded`);
    }
    if (digest.hex !== info.cFileHash) {
      throw badRequest(`cFileHash ${info.cFileHash} does not match the sha256 of the uploaded file (${digest.hex})`);
    }
    const nar = this.verifyNar ? await hashDecompressed(compressed, compression) : { narSize: info.cNarSize, narHash: info.cNarHash };
    if ('error' in nar) throw badRequest(nar.error);
    if (nar.narSize !== info.cNarSize) {
      throw badRequest(`cNarSize ${info.cNarSize} does not match the decompressed NAR (${nar.narSize} bytes)`);
    }
    if (nar.narHash !== info.cNarHash) {
      throw badRequest(`cNarHash ${info.cNarHash} does not match the decompressed NAR (${nar.narHash})`);
    }
    const storePath = `/nix/store/${info.cStoreHash}-${info.cStoreSuffix}`;
    const fp = fingerprint(storePath, info.cNarHash, info.cNarSize, info.cReferences.map((r) => `/nix/store/${r}`));
    const sig = this.signatureFor(cache, info.cSig, fp);

    const fileName = `${info.cFileHash}.nar.${EXTENSION[compression]}`;
    if ('file' in compressed) await rename(compressed.file, this.narFile(cache, fileName));
    else writeAtomically(this.narFile(cache, fileName), compressed.data);
    const narinfo: NarInfo = {
      storePath,
      url: `nar/${fileName}`,
      compression: NARINFO_COMPRESSION[compression],
      fileHash: sha256Nix(Buffer.from(info.cFileHash, 'hex')),
      fileSize: info.cFileSize,
      narHash: info.cNarHash,
      narSize: info.cNarSize,
      references: info.cReferences,
      sigs: sig === undefined ? [] : [sig],
    };
    if (info.cDeriver !== 'unknown-deriver') narinfo.deriver = info.cDeriver;
    writeAtomically(this.narinfoFile(cache, info.cStoreHash), renderNarInfo(narinfo));
    this.published.get(cache.name)!.add(info.cStoreHash);
  }

  private verifier(publicKey: Buffer): KeyObject {
    let keyObject = this.verifiers.get(publicKey);
    if (!keyObject) this.verifiers.set(publicKey, (keyObject = publicKeyObject(publicKey)));
    return keyObject;
  }

  private signatureFor(cache: CacheRecord, cSig: string | null, fp: string): string {
    if (cSig !== null) {
      if (!cache.publicKey || !cache.keyName) {
        throw badRequest(`cache ${cache.name} has no public signing key to verify cSig against`);
      }
      if (!verifyBytes(this.verifier(cache.publicKey), fp, Buffer.from(cSig, 'base64'))) {
        throw badRequest(`cSig is not a valid signature by ${cache.keyName} of the fingerprint ${fp}`);
      }
      return `${cache.keyName}:${cSig}`;
    }
    if (cache.signer && cache.keyName) {
      return `${cache.keyName}:${signBytes(cache.signer, fp).toString('base64')}`;
    }
    if (cache.publicKey) throw badRequest(`cache ${cache.name} is self-signed: cSig is required`);
    throw badRequest(`cache ${cache.name} has no signing key: generate one (cachix generate-keypair) or sign the upload`);
  }
}

/**
 * Small files (narinfos, small NARs) are written synchronously: a few microseconds on tmpfs,
 * cheaper than three thread-pool round trips, and the stand-in is a test server. Temp + rename,
 * so Nix never reads half a file.
 */
function writeAtomically(target: string, data: string | Buffer): void {
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, target);
}
