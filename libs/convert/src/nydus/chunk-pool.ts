import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChunkDone, ChunkJob } from './chunk-worker';

/** Worker threads that digest and compress chunks: the main thread only parses and writes. */
export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (d: ChunkDone) => void; reject: (e: Error) => void }>();
  private next = 0;
  private turn = 0;

  constructor(size = Math.max(1, Math.min(4, cpus().length))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(join(__dirname, 'chunk-worker.js'));
      w.on('message', (d: ChunkDone) => {
        const p = this.pending.get(d.id);
        this.pending.delete(d.id);
        if (this.pending.size === 0) this.idle(true);
        p?.resolve(d);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Idle workers must not keep the process alive; busy ones must. */
  private idle(yes: boolean): void {
    for (const w of this.workers) (yes ? w.unref() : w.ref());
  }

  run(data: Buffer, digester: ChunkJob['digester'], compressor: ChunkJob['compressor']): Promise<ChunkDone> {
    const id = this.next++;
    if (this.pending.size === 0) this.idle(false);
    // A chunk that owns its memory moves to the worker; one that shares a stream buffer is copied.
    let own: Uint8Array;
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
      own = new Uint8Array(data.buffer, 0, data.byteLength);
    } else {
      own = new Uint8Array(data.length);
      own.set(data);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const job: ChunkJob = { id, data: own, digester, compressor };
      this.workers[this.turn++ % this.workers.length].postMessage(job, [own.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

let shared: ChunkPool | undefined;

/** One pool per process, created on first use. */
export const chunkPool = (): ChunkPool => (shared ??= new ChunkPool());
