import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Worker side of offloaded-hash.ts: hashes batches that the main thread placed in shared
 * memory slots, then hands each slot back.
 */
type Message =
  | { type: 'open'; id: number; algorithm: 'sha256' | 'md5' }
  | { type: 'update'; id: number; slot: number; length: number }
  | { type: 'digest'; id: number };

const { shared, slotBytes } = workerData as { shared: SharedArrayBuffer; slotBytes: number };
const sessions = new Map<number, Hash>();

parentPort!.on('message', (message: Message) => {
  switch (message.type) {
    case 'open':
      sessions.set(message.id, createHash(message.algorithm));
      break;
    case 'update':
      sessions.get(message.id)!.update(new Uint8Array(shared, message.slot * slotBytes, message.length));
      parentPort!.postMessage({ ack: message.slot });
      break;
    case 'digest': {
      const digest = sessions.get(message.id)!.digest();
      sessions.delete(message.id);
      parentPort!.postMessage({ id: message.id, digest }, [digest.buffer as ArrayBuffer]);
      break;
    }
  }
});
