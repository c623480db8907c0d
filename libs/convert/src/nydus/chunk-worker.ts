import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { createBLAKE3, IHasher } from 'hash-wasm';
import { compressSync } from 'lz4-napi';
import { compress } from 'zstd-napi';

/** Digests and compresses chunks off the main thread. */
export interface ChunkJob {
  id: number;
  data: Uint8Array;
  digester: 'blake3' | 'sha256';
  compressor: 'zstd' | 'lz4_block' | 'none';
}

export interface ChunkDone {
  id: number;
  digest: Uint8Array;
  /** What to store: the compressed chunk, or the chunk itself when compression did not help. */
  stored: Uint8Array;
}

let blake3: IHasher | undefined;

parentPort?.on('message', async (job: ChunkJob) => {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  let digest: Buffer;
  if (job.digester === 'blake3') {
    blake3 ??= await createBLAKE3();
    blake3.init();
    blake3.update(data);
    digest = Buffer.from(blake3.digest('binary'));
  } else {
    digest = createHash('sha256').update(data).digest();
  }
  let stored: Uint8Array = job.data;
  if (job.compressor !== 'none') {
    // lz4-napi prefixes the block with its size (u32 LE); Nydus stores the bare block.
    const z = job.compressor === 'zstd' ? compress(data) : compressSync(data).subarray(4);
    if (z.length < data.length) stored = z;
  }
  const reply: ChunkDone = { id: job.id, digest: new Uint8Array(digest), stored };
  // The chunk travels back only when it is stored as is; compressed output is copied (it may share a pool).
  parentPort!.postMessage(reply, stored === job.data ? [job.data.buffer as ArrayBuffer] : []);
});
