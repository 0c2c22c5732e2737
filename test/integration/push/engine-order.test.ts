import { beforeAll, expect, it } from 'vitest';
import { NixStore } from '../../../src/nix/store.js';
import type { Destination, NarUpload } from '../../../src/push/destination.js';
import { push } from '../../../src/push/engine.js';
import { describeNix } from '../../support/nix/available.js';
import { makeTestClosure, type TestClosure } from '../../support/nix/closure.js';

/** Records the order in which paths are registered; leaves take longest to upload. */
class RecordingDestination implements Destination {
  readonly label = 'recording';
  readonly registered: string[] = [];
  constructor(
    private readonly slow: Set<string>,
    private readonly failing: Set<string> = new Set(),
  ) {}
  async missingHashes(hashes: readonly string[]): Promise<string[]> {
    return [...hashes];
  }
  async upload(nar: NarUpload): Promise<void> {
    for await (const _ of nar.compressed) void _;
    await nar.result;
    if (this.slow.has(nar.info.path)) await new Promise((r) => setTimeout(r, 300));
    if (this.failing.has(nar.info.path)) throw new Error(`injected failure for ${nar.info.path}`);
    await nar.referencesPublished;
    this.registered.push(nar.info.path);
  }
  async close(): Promise<void> {}
}

describeNix('push engine: references are registered before their referrers', () => {
  let closure: TestClosure;
  let leaves: Set<string>;
  const store = new NixStore();
  beforeAll(async () => {
    closure = await makeTestClosure();
    const infos = await store.pathInfos(closure.paths);
    leaves = new Set(closure.paths.filter((p) => infos.get(p)!.references.every((r) => r === p)));
  });

  const run = (destination: Destination) =>
    push({
      store,
      destination,
      inputs: [closure.top],
      compression: 'zstd',
      compressionLevel: 1,
      jobs: 8,
      omitDeriver: false,
      signer: undefined,
      events: () => undefined,
      signal: new AbortController().signal,
      pathRetry: { retries: 0, delayMs: 0, sleep: async () => undefined },
    });

  it('registers every path after all of its references, however slow the leaves are', async () => {
    const destination = new RecordingDestination(leaves);
    await run(destination);
    expect([...destination.registered].sort()).toEqual([...closure.paths].sort());
    const infos = await store.pathInfos(closure.paths);
    const position = new Map(destination.registered.map((p, i) => [p, i]));
    for (const path of closure.paths) {
      for (const ref of infos.get(path)!.references.filter((r) => r !== path)) {
        expect(position.get(ref)!, `${ref} before ${path}`).toBeLessThan(position.get(path)!);
      }
    }
  });

  it('never registers a path whose reference failed', async () => {
    const data = closure.paths.find((p) => p.endsWith('-cachix-test-data'))!;
    const destination = new RecordingDestination(new Set(), new Set([data]));
    await expect(run(destination)).rejects.toThrow(/injected failure/);
    const dependents = [closure.top, ...closure.paths.filter((p) => /-(link|tool|lib)$/.test(p))];
    for (const p of dependents) expect(destination.registered).not.toContain(p);
  });
});
