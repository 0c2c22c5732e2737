import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CachixError } from '../errors.js';
import { exists } from '../util/fs-access.js';
import { makeDirectories } from '../util/make-directories.js';
import { removeStaleTemps, tempName } from '../util/temp-names.js';
import { toNixBase32 } from '../nix/base32.js';
import { localKeyName } from '../nix/cache-name.js';
import { renderNarInfo } from '../nix/narinfo.js';
import { baseNameOf, storeHashOf } from '../nix/store-path.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { narExtension } from './compression.js';
import type { Destination, NarUpload } from './destination.js';
import { signNarInfo } from './signature.js';

/** Lower than cache.nixos.org's 40: a local cache is the cheaper place to look. */
const LOCAL_PRIORITY = 30;

/**
 * A Nix binary cache in a plain directory (what `nix copy --to file://DIR` writes), with
 * no server. Crash safety comes from ordering: the NAR is written under a temporary name
 * and renamed into place, and only then is the narinfo (which makes the path visible to
 * Nix) written atomically. Two processes pushing into one directory at once only ever
 * rename identical content over identical content.
 */
export class LocalDestination implements Destination {
  readonly label: string;
  /**
   * The name for a key given without one (bare base64, e.g. in CACHIX_SIGNING_KEY): the
   * name `generate-keypair` gives this directory's key, so the Sig matches the public key
   * it printed (Nix checks a signature only against a trusted key of the same name).
   */
  private readonly defaultKeyName: string;
  private prepared: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    url: string,
  ) {
    this.label = url;
    this.defaultKeyName = localKeyName(dir);
  }

  async missingHashes(hashes: readonly string[]): Promise<string[]> {
    await this.prepare();
    const present = await Promise.all(hashes.map((h) => exists(join(this.dir, `${h}.narinfo`))));
    return hashes.filter((_, i) => !present[i]);
  }

  async upload(nar: NarUpload, signal: AbortSignal): Promise<void> {
    await this.prepare();
    const temp = join(this.dir, 'nar', tempName('nar'));
    try {
      await pipeline(nar.compressed, createWriteStream(temp, { mode: 0o644 }), { signal });
      const summary = await nar.result;
      await nar.referencesPublished;
      signal.throwIfAborted();
      const fileName = `${toNixBase32(Buffer.from(summary.fileHash, 'hex'))}.nar.${narExtension(nar.compression)}`;
      // The narinfo below is fsynced; without this the NAR it points to could still be
      // empty on disk after a power loss, and Nix would fail on a path it was told exists.
      await syncFile(temp);
      await rename(temp, join(this.dir, 'nar', fileName));
      const signature = signNarInfo(nar.signer, nar.info, summary);
      const narinfo = renderNarInfo({
        storePath: nar.info.path,
        url: `nar/${fileName}`,
        compression: nar.compression,
        fileHash: `sha256:${toNixBase32(Buffer.from(summary.fileHash, 'hex'))}`,
        fileSize: summary.fileSize,
        narHash: summary.narHash,
        narSize: summary.narSize,
        references: nar.info.references.map(baseNameOf),
        ...(nar.omitDeriver || !nar.info.deriver ? {} : { deriver: baseNameOf(nar.info.deriver) }),
        sigs: signature === null ? [] : [`${nar.signer!.keyName ?? this.defaultKeyName}:${signature}`],
        ...(nar.info.ca ? { ca: nar.info.ca } : {}),
      });
      await writeFileAtomic(join(this.dir, `${storeHashOf(nar.info.path)}.narinfo`), narinfo, { mode: 0o644 });
    } catch (error) {
      nar.compressed.destroy();
      await rm(temp, { force: true });
      throw error;
    }
  }

  async close(): Promise<void> {}

  /** Creates the directory layout and `nix-cache-info` on first use. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      try {
        await makeDirectories(join(this.dir, 'nar'));
        // A killed push leaves a temp NAR or narinfo behind; this run cleans them up.
        await Promise.all([removeStaleTemps(this.dir), removeStaleTemps(join(this.dir, 'nar'))]);
        const info = join(this.dir, 'nix-cache-info');
        if (!(await exists(info))) {
          // 'wx' would fail if another process wins the race; both write the same text, so rename-over is fine.
          await writeFileAtomic(info, `StoreDir: /nix/store\nWantMassQuery: 1\nPriority: ${LOCAL_PRIORITY}\n`, { mode: 0o644 });
        }
      } catch (error) {
        throw new CachixError(`cannot use ${this.dir} as a binary cache: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    })();
    return this.prepared;
  }
}

/** fsync flushes the file's data whichever descriptor it is called on. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
