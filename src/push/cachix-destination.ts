import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { CachixApi } from '../api/client.js';
import type { CompletedPart, MultipartUploadCreated, NarInfoCreate } from '../api/types.js';
import { baseNameOf, requireStorePath } from '../nix/store-path.js';
import { chunk, partSizeFor, type Part } from './chunker.js';
import { compressionQuery } from './compression.js';
import type { Destination, NarUpload } from './destination.js';
import type { NarSummary } from './nar-stream.js';
import { ownedTempDir } from '../util/temp-names.js';
import { signNarInfo } from './signature.js';

export interface CachixDestinationOptions {
  chunkSize: number;
  maxChunkSize: number;
  numConcurrentChunks: number;
}

/** A Cachix cache, written through the multipart API (spec §6.5). */
export class CachixDestination implements Destination {
  readonly label: string;
  private spool: Promise<string> | undefined;

  constructor(
    private readonly api: CachixApi,
    private readonly cache: string,
    private readonly options: CachixDestinationOptions,
  ) {
    this.label = `cache ${cache}`;
  }

  missingHashes(hashes: readonly string[], signal: AbortSignal): Promise<string[]> {
    return this.api.missingHashes(this.cache, hashes, signal);
  }

  async upload(nar: NarUpload, signal: AbortSignal): Promise<void> {
    const upload = await this.api.createMultipart(this.cache, compressionQuery(nar.compression), signal);
    try {
      const partSize = partSizeFor(this.options.chunkSize, nar.info.narSize, this.options.maxChunkSize);
      const parts = await this.uploadParts(upload, chunk(nar.compressed, { partSize, spoolDir: await this.spoolDir() }), signal);
      const summary = await nar.result;
      await nar.referencesPublished;
      signal.throwIfAborted();
      const narInfoCreate = buildNarInfoCreate(nar, summary);
      await this.api.completeMultipart(this.cache, upload, { parts: parts.some((p) => !p.eTag) ? null : parts, narInfoCreate }, signal);
    } catch (error) {
      nar.compressed.destroy();
      // Free the storage the parts took; the error that got us here is what matters.
      await this.api.abortMultipart(this.cache, upload).catch(() => undefined);
      throw error;
    }
  }

  /** Uploads parts `numConcurrentChunks` at a time; reading pauses (back-pressure) while all slots are busy. */
  private async uploadParts(upload: MultipartUploadCreated, parts: AsyncIterable<Part>, signal: AbortSignal): Promise<CompletedPart[]> {
    const done: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    for await (const part of parts) {
      const task = this.uploadPart(upload, part, signal).then(
        (eTag) => {
          done.push({ partNumber: part.partNumber, eTag: eTag ?? '' });
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= this.options.numConcurrentChunks) await Promise.race(inFlight);
      if (failure) break;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    return done.sort((a, b) => a.partNumber - b.partNumber);
  }

  private async uploadPart(upload: MultipartUploadCreated, part: Part, signal: AbortSignal): Promise<string | undefined> {
    try {
      const url = await this.api.partUploadUrl(this.cache, upload, part.partNumber, part.md5, signal);
      return await this.api.uploadPart(url, part.body, part.size, part.md5, signal);
    } finally {
      await part.dispose();
    }
  }

  /** Where large parts wait for their upload (see chunk()); made on first use, removed on close. */
  private spoolDir(): Promise<string> {
    this.spool ??= ownedTempDir(tmpdir(), 'cachix-parts-');
    return this.spool;
  }

  async close(): Promise<void> {
    await this.api.close();
    if (this.spool) await rm(await this.spool, { recursive: true, force: true });
  }
}

/** spec §6.6 */
export function buildNarInfoCreate(nar: NarUpload, summary: NarSummary): NarInfoCreate {
  const parts = requireStorePath(nar.info.path);
  return {
    cStoreHash: parts.hash,
    cStoreSuffix: parts.name,
    cNarHash: summary.narHash,
    cNarSize: summary.narSize,
    cFileHash: summary.fileHash,
    cFileSize: summary.fileSize,
    cReferences: nar.info.references.map(baseNameOf).sort(),
    cDeriver: nar.omitDeriver || !nar.info.deriver ? 'unknown-deriver' : baseNameOf(nar.info.deriver),
    cSig: signNarInfo(nar.signer, nar.info, summary),
  };
}
