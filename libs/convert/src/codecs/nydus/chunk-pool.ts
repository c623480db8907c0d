import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChunkBatchDone, ChunkBatchJob } from './chunk-worker';

type Reply = ChunkBatchDone | { id: number; error: string };

/** Worker threads that digest and compress chunk batches: the main thread only parses and writes. */
export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (d: ChunkBatchDone) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(size = Math.max(1, Math.min(4, cpus().length))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(join(__dirname, 'chunk-worker.js'));
      w.on('message', (d: Reply) => {
        const p = this.pending.get(d.id);
        this.pending.delete(d.id);
        if (this.pending.size === 0) this.idle(true);
        if ('error' in d) p?.reject(new Error(`chunk worker: ${d.error}`));
        else p?.resolve(d);
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
    for (const w of this.workers) {
      if (yes) w.unref();
      else w.ref();
    }
  }

  run(job: Omit<ChunkBatchJob, 'id'>): Promise<ChunkBatchDone> {
    const id = this.next++;
    if (this.pending.size === 0) this.idle(false);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.workers.length].postMessage({ ...job, id }, [job.lengths.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

let shared: ChunkPool | undefined;

/** One pool per process, created on first use. */
export const chunkPool = (): ChunkPool => (shared ??= new ChunkPool());
