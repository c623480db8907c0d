import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { blake3 } from '@napi-rs/blake-hash';
import { compressSync as lz4Compress } from 'lz4-napi';
import { CCtx, compressBound } from 'zstd-napi/binding';

/**
 * A batch of consecutive chunks in shared memory: `input` holds them back to back, the worker
 * writes what is to be stored for each (compressed, or the chunk itself when compression does
 * not help) back to back into `output`. Nothing is allocated per chunk on either side.
 */
export interface ChunkBatchJob {
  id: number;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  lengths: Int32Array;
  digester: 'blake3' | 'sha256';
  compressor: 'zstd' | 'lz4_block' | 'none';
}

export interface ChunkBatchDone {
  id: number;
  /** 32 bytes per chunk. */
  digests: Uint8Array;
  /** Bytes stored per chunk in `output`; fewer than the chunk's length means compressed. */
  stored: Int32Array;
}

let zstd: CCtx | undefined;

function digestOf(data: Uint8Array, digester: ChunkBatchJob['digester']): Uint8Array {
  // Native BLAKE3 (SIMD): a tenth of the CPU of a WASM build, which made digests a third of a worker's time.
  return digester === 'sha256' ? createHash('sha256').update(data).digest() : blake3(data);
}

/** Compresses `src` into `dst`; returns 0 when that does not make it smaller. */
function compressInto(src: Uint8Array, dst: Uint8Array, compressor: ChunkBatchJob['compressor']): number {
  if (compressor === 'zstd') {
    zstd ??= new CCtx();
    try {
      const n = zstd.compress2(dst, src);
      return n < src.length ? n : 0;
    } catch {
      return 0; // "Destination buffer is too small": incompressible
    }
  }
  if (compressor === 'lz4_block') {
    // lz4-napi prefixes the block with its size (u32 LE); Nydus stores the bare block.
    const block = lz4Compress(Buffer.from(src.buffer, src.byteOffset, src.byteLength)).subarray(4);
    if (block.length >= src.length) return 0;
    dst.set(block);
    return block.length;
  }
  return 0;
}

function run(job: ChunkBatchJob): ChunkBatchDone {
  const digests = new Uint8Array(job.lengths.length * 32);
  const stored = new Int32Array(job.lengths.length);
  let inPos = 0;
  let outPos = 0;
  for (let i = 0; i < job.lengths.length; i++) {
    const len = job.lengths[i];
    const src = new Uint8Array(job.input, inPos, len);
    const dst = new Uint8Array(job.output, outPos, Math.min(compressBound(len), job.output.byteLength - outPos));
    digests.set(digestOf(src, job.digester), i * 32);
    let n = compressInto(src, dst, job.compressor);
    if (n === 0) {
      dst.set(src); // stored as is: a chunk never grows, so the batch always fits
      n = len;
    }
    stored[i] = n;
    inPos += len;
    outPos += n;
  }
  return { id: job.id, digests, stored };
}

parentPort?.on('message', (job: ChunkBatchJob) => {
  let done: ChunkBatchDone;
  try {
    done = run(job);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message });
    return;
  }
  parentPort!.postMessage(done, [done.digests.buffer as ArrayBuffer, done.stored.buffer as ArrayBuffer]);
});
