import { ChunkPool } from './chunk-pool';
import { compressBound } from 'zstd-napi/binding';
import { ChunkBatchDone, ChunkBatchJob } from './chunk-worker';

/** One chunk of a file, on its way through a worker into the blob. */
export interface PendingChunk<T> {
  owner: T;
  length: number;
}

/** A finished batch: per chunk its digest and where its stored bytes are in `output`. */
export interface PlacedBatch<T> {
  chunks: PendingChunk<T>[];
  output: Uint8Array;
  done: ChunkBatchDone;
}

interface Slot {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  view: Uint8Array;
  /** Settles when the slot's previous batch has been placed and written: it may be refilled. */
  free: Promise<void>;
}

const MIN_BATCH = 1 << 20;
/** zstd wants room for its worst case even when the result is smaller. */
const outputBytesFor = (batchBytes: number): number => compressBound(batchBytes) + 64;
const SLOT_BUDGET = 32 << 20;

/**
 * Chunks travel in batches through a fixed ring of shared-memory slots: file data is copied
 * once into a slot, a worker digests and compresses the batch in place, and `place` (called
 * in submission order, so the blob is the same bytes whatever the timing) stores the results.
 * A slot is refilled only once the writes `place` started from it have finished. Memory is
 * the ring, whatever the layer size, and nothing per chunk is left for the collector.
 */
export class ChunkBatcher<T> {
  private readonly batchBytes: number;
  private readonly slots: Slot[];
  /** Only what a worker needs: everything in a job message is cloned into the worker. */
  private readonly job: Pick<ChunkBatchJob, 'digester' | 'compressor'>;
  private seq = 0;
  private slot!: Slot;
  private filled = 0;
  private chunks: PendingChunk<T>[] = [];
  private order: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: ChunkPool,
    chunkSize: number,
    { digester, compressor }: Pick<ChunkBatchJob, 'digester' | 'compressor'>,
    /** Stores a batch's chunks; returns when the bytes it wrote from `output` may be overwritten. */
    private readonly place: (batch: PlacedBatch<T>) => Promise<void>,
  ) {
    this.job = { digester, compressor };
    this.batchBytes = Math.max(chunkSize, MIN_BATCH);
    // Enough slots for one filling, one per worker computing and one being written.
    const count = Math.max(4, Math.min(8, Math.floor(SLOT_BUDGET / (2 * this.batchBytes))));
    this.slots = Array.from({ length: count }, () => {
      const input = new SharedArrayBuffer(this.batchBytes);
      return {
        input,
        output: new SharedArrayBuffer(outputBytesFor(this.batchBytes)),
        view: new Uint8Array(input),
        free: Promise.resolve(),
      };
    });
  }

  /** Starts a chunk of `length` bytes (≤ chunk size); its bytes follow through `write`. */
  async begin(owner: T, length: number): Promise<void> {
    if (!this.slot || this.filled + length > this.batchBytes) {
      this.submit();
      this.slot = this.slots[this.seq++ % this.slots.length];
      await this.slot.free;
      this.filled = 0;
    }
    this.chunks.push({ owner, length });
  }

  write(data: Uint8Array): void {
    this.slot.view.set(data, this.filled);
    this.filled += data.length;
  }

  /** Submits what is pending and waits until every batch is placed and written. */
  async flush(): Promise<void> {
    this.submit();
    await this.order;
    await Promise.all(this.slots.map((s) => s.free));
  }

  private submit(): void {
    if (this.chunks.length === 0) return;
    const slot = this.slot;
    const chunks = this.chunks;
    this.chunks = [];
    const done = this.pool.run({
      ...this.job,
      input: slot.input,
      output: slot.output,
      lengths: Int32Array.from(chunks, (c) => c.length),
    });
    // Placing is ordered; the writes it starts may overlap the next batch's placing.
    const placed = this.order.then(async () => ({
      writes: this.place({ chunks, output: new Uint8Array(slot.output), done: await done }),
    }));
    this.order = placed.then(() => undefined);
    slot.free = placed.then((p) => p.writes);
    // A failure surfaces through flush() or the next begin() that needs the slot; never unhandled.
    for (const p of [done, this.order, slot.free]) p.catch(() => undefined);
  }
}
