import { beforeAll, expect, it } from 'vitest';
import { NixStore } from '../../../src/nix/store.js';
import type { Destination, NarUpload } from '../../../src/push/destination.js';
import { openPushSession, push, type PushSession } from '../../../src/push/engine.js';
import type { PushEvent } from '../../../src/push/events.js';
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

describeNix('push engine: batches sharing one session (watch modes)', () => {
  let closure: TestClosure;
  const store = new NixStore();
  beforeAll(async () => {
    closure = await makeTestClosure();
  });

  const batch = (destination: Destination, session: PushSession, inputs: string[], events: PushEvent[] = []) =>
    push({
      store,
      destination,
      inputs,
      compression: 'zstd',
      compressionLevel: 1,
      jobs: 4,
      omitDeriver: false,
      signer: undefined,
      events: (e) => events.push(e),
      signal: new AbortController().signal,
      pathRetry: { retries: 0, delayMs: 0, sleep: async () => undefined },
      session,
      keepGoing: true,
    });

  it('pushes a path shared by two concurrent batches once, and a referrer only after its reference from the other batch', async () => {
    const lib = closure.paths.find((p) => p.endsWith('-cachix-test-lib'))!;
    const destination = new RecordingDestination(new Set(closure.paths.filter((p) => p !== closure.top)));
    const session = openPushSession({ jobs: 4, compression: 'zstd', compressionLevel: 1 });
    try {
      // The first batch holds lib's closure (slow uploads); the second, started at once, the whole closure.
      const [first, second] = await Promise.all([batch(destination, session, [lib]), batch(destination, session, [closure.top])]);
      expect(first.pushed + second.pushed).toBe(closure.paths.length);
      expect([...destination.registered].sort()).toEqual([...closure.paths].sort()); // each once
      expect(destination.registered.indexOf(lib)).toBeLessThan(destination.registered.indexOf(closure.top));
      expect(session.schedule.unsettled).toBe(0);
    } finally {
      await session.close();
    }
  });

  it('with keepGoing, a failed path is reported and counted, its referrers fail, the rest are pushed', async () => {
    const data = closure.paths.find((p) => p.endsWith('-cachix-test-data'))!;
    const destination = new RecordingDestination(new Set(), new Set([data]));
    const session = openPushSession({ jobs: 4, compression: 'zstd', compressionLevel: 1 });
    const events: PushEvent[] = [];
    try {
      const summary = await batch(destination, session, [closure.top], events);
      const failed = events.filter((e) => e.type === 'path-failed').map((e) => (e as { path: string }).path);
      expect(failed).toContain(data);
      expect(summary.failed).toBe(failed.length);
      expect(destination.registered).not.toContain(data);
      expect(destination.registered).not.toContain(closure.top);
      // Paths that do not depend on data (src, greeting) still made it.
      expect(destination.registered.length).toBe(closure.paths.length - failed.length);
      expect(destination.registered.length).toBeGreaterThan(0);
      // A later batch does not retry what this session already took on.
      const again = await batch(destination, session, [closure.top]);
      expect(again.pushed).toBe(0);
    } finally {
      await session.close();
    }
  });
});
