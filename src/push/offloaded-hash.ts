import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Hashing off the main thread. A push hashes every byte two or three times (SHA-256 of the
 * NAR, SHA-256 and MD5 of the compressed file); on the main thread that alone kept ~1.5 s
 * per GiB away from moving bytes. Two workers share the work: lane 0 takes the uncompressed
 * side, lane 1 the compressed side.
 *
 * Bytes travel through a fixed ring of shared-memory slots per worker: the main thread
 * copies a batch into a free slot and posts its index; the worker hashes it in place and
 * hands the slot back. Nothing is allocated per batch, so memory stays bounded (lanes ×
 * SLOTS × SLOT_BYTES) however far a worker falls behind; while no slot is free, producers
 * wait (`drained()`), which back-pressures the whole pipeline.
 */
const SLOT_BYTES = 1024 * 1024;
const SLOTS = 4;
const WORKER_URL = new URL('./hash-worker.js', import.meta.url);

/** What callers use: a running hash, on a worker when one is available. */
export interface IncrementalHash {
  update(data: Buffer): void;
  /** Resolves once the hash can take more bytes; producers await it (back-pressure). */
  drained(): Promise<void>;
  digest(): Promise<Buffer>;
}

/** Hashing on the calling thread: when running from TypeScript sources (tests), where no compiled worker exists. */
class InlineHash implements IncrementalHash {
  private readonly hash: Hash;
  constructor(algorithm: string) {
    this.hash = createHash(algorithm);
  }
  update(data: Buffer): void {
    this.hash.update(data);
  }
  async drained(): Promise<void> {}
  async digest(): Promise<Buffer> {
    return this.hash.digest();
  }
}

type WorkerReply = { ack: number } | { id: number; digest: Uint8Array };

/** One worker with its slot ring. */
class Lane {
  private readonly worker: Worker;
  private readonly shared = new SharedArrayBuffer(SLOT_BYTES * SLOTS);
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  /** Sessions with bytes waiting for a slot, served in order. */
  private readonly queue: OffloadedHash[] = [];
  private readonly digests = new Map<number, { resolve: (d: Buffer) => void; reject: (e: unknown) => void }>();
  private failure: unknown;

  constructor() {
    this.worker = new Worker(WORKER_URL, { workerData: { shared: this.shared, slotBytes: SLOT_BYTES } });
    this.worker.on('message', (m: WorkerReply) => {
      if ('ack' in m) {
        this.free.push(m.ack);
        this.pump();
      } else {
        this.digests.get(m.id)?.resolve(Buffer.from(m.digest.buffer, m.digest.byteOffset, m.digest.byteLength));
        this.digests.delete(m.id);
      }
      this.updateRef();
    });
    // A broken worker fails what it owes instead of leaving the push waiting forever.
    this.worker.on('error', (error) => {
      this.failure = error;
      for (const d of this.digests.values()) d.reject(error);
      this.digests.clear();
      for (const s of this.queue.splice(0)) s.fail(error);
    });
    this.worker.unref();
  }

  open(id: number, algorithm: 'sha256' | 'md5'): void {
    this.worker.postMessage({ type: 'open', id, algorithm });
  }

  /** Asks for slots for `session`'s pending bytes. */
  enqueue(session: OffloadedHash): void {
    if (this.failure) return session.fail(this.failure);
    if (!this.queue.includes(session)) this.queue.push(session);
    this.pump();
  }

  digest(id: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.digests.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'digest', id });
      this.updateRef();
    });
  }

  /** Moves queued bytes into free slots, oldest session first. */
  private pump(): void {
    while (this.free.length > 0 && this.queue.length > 0) {
      const session = this.queue[0]!;
      const slot = this.free.pop()!;
      const length = session.fillSlot(new Uint8Array(this.shared, slot * SLOT_BYTES, SLOT_BYTES));
      this.worker.postMessage({ type: 'update', id: session.id, slot, length });
      if (!session.hasPending()) {
        this.queue.shift();
        session.wake();
      }
    }
    this.updateRef();
  }

  /** Keep the process alive only while the worker owes something. */
  private updateRef(): void {
    if (this.digests.size > 0 || this.free.length < SLOTS) this.worker.ref();
    else this.worker.unref();
  }
}

const lanes: Lane[] = [];
let workerAvailable: boolean | undefined;
let nextId = 1;

/** A running hash computed on a worker thread. */
export class OffloadedHash implements IncrementalHash {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private error: unknown;

  private constructor(
    private readonly lane: Lane,
    readonly id: number,
  ) {}

  static open(algorithm: 'sha256' | 'md5', lane: 0 | 1): IncrementalHash {
    workerAvailable ??= existsSync(fileURLToPath(WORKER_URL));
    if (!workerAvailable) return new InlineHash(algorithm);
    const owner = (lanes[lane] ??= new Lane());
    const hash = new OffloadedHash(owner, nextId++);
    owner.open(hash.id, algorithm);
    return hash;
  }

  update(data: Buffer): void {
    if (data.length === 0) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= SLOT_BYTES) this.lane.enqueue(this);
  }

  drained(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.pendingBytes < SLOT_BYTES) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async digest(): Promise<Buffer> {
    if (this.pendingBytes > 0) {
      this.lane.enqueue(this);
      await new Promise<void>((resolve, reject) => (this.pendingBytes === 0 ? resolve() : this.waiters.push({ resolve, reject })));
    }
    return this.lane.digest(this.id);
  }

  hasPending(): boolean {
    return this.pendingBytes > 0;
  }

  /** Copies up to one slot's worth of pending bytes into `slot`; returns how many. */
  fillSlot(slot: Uint8Array): number {
    let filled = 0;
    while (this.pending.length > 0 && filled < slot.length) {
      const head = this.pending[0]!;
      const take = Math.min(head.length, slot.length - filled);
      slot.set(take === head.length ? head : head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    this.pendingBytes -= filled;
    return filled;
  }

  wake(): void {
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  fail(error: unknown): void {
    this.error = error;
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}
