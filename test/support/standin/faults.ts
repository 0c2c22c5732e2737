/**
 * Deterministic fault decisions. The same seed and the same sequence of requests give the
 * same faults, so a flaky-network test can be replayed exactly.
 */
import type { FaultConfig, FaultKind, InjectedFault, RouteKind, TargetedFault } from './types.js';

/** mulberry32: a tiny, well-known 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Kinds that only make sense on some routes. */
function applies(kind: FaultKind, route: RouteKind): boolean {
  return kind !== 'no-etag' || route === 'upload';
}

export class FaultPlan {
  private random: () => number;
  private config: FaultConfig | undefined;
  private targeted: (TargetedFault & { remaining: number })[] = [];
  readonly injected: InjectedFault[] = [];

  constructor(seed: number, config: FaultConfig | undefined) {
    this.random = mulberry32(seed);
    this.config = config;
  }

  setConfig(config: FaultConfig | undefined): void {
    this.config = config;
  }

  get settings(): FaultConfig | undefined {
    return this.config;
  }

  addTargeted(fault: TargetedFault): void {
    this.targeted.push({ ...fault, remaining: fault.count ?? 1 });
  }

  /** Decides (and records) the fault for one request, or undefined for none. */
  decide(route: RouteKind, method: string, path: string): FaultKind | undefined {
    const kind = this.decideTargeted(route, method, path) ?? this.decideRandom(route);
    if (kind !== undefined) this.injected.push({ route, kind, method, path });
    return kind;
  }

  private decideTargeted(route: RouteKind, method: string, path: string): FaultKind | undefined {
    const index = this.targeted.findIndex(
      (t) =>
        t.route === route &&
        (t.method === undefined || t.method.toUpperCase() === method) &&
        (t.pathIncludes === undefined || path.includes(t.pathIncludes)),
    );
    if (index < 0) return undefined;
    const target = this.targeted[index]!;
    target.remaining -= 1;
    if (target.remaining <= 0) this.targeted.splice(index, 1);
    return target.kind;
  }

  private decideRandom(route: RouteKind): FaultKind | undefined {
    const config = this.config;
    if (!config || config.rate <= 0 || config.kinds.length === 0) return undefined;
    if (!(config.on ?? ['api', 'upload']).includes(route)) return undefined;
    // Always draw both numbers so the sequence does not depend on which kinds apply.
    const hit = this.random() < config.rate;
    const kind = config.kinds[Math.floor(this.random() * config.kinds.length)]!;
    return hit && applies(kind, route) ? kind : undefined;
  }
}
