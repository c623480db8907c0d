import { ChunkInfo } from './blob-format';
import { grown } from './columns';

const DIGEST_SIZE = 32;
const INITIAL = 1024;

/**
 * A blob's chunks in chunk-info order, as columns of numbers with their digests back to back,
 * and an index by digest for deduplication. A layer of hundreds of thousands of files is as
 * many chunks: an object and a key string per chunk was a third of what the converter kept.
 */
export class ChunkTable {
  length = 0;
  private uncompressedOffsets = new Float64Array(INITIAL);
  private compressedOffsets = new Float64Array(INITIAL);
  private uncompressedSizes = new Uint32Array(INITIAL);
  private compressedSizes = new Uint32Array(INITIAL);
  private digestBytes = Buffer.alloc(INITIAL * DIGEST_SIZE);
  /**
   * Open addressing by the digest's first 32 bits (digests are uniform), chunk index + 1 per
   * slot, 0 when empty; kept at most half full. Dropped by `seal`.
   */
  private slots: Int32Array | undefined = new Int32Array(INITIAL * 2);

  /** Appends a chunk stored in the blob; returns its chunk-info index. */
  add(chunk: ChunkInfo, digest: Uint8Array): number {
    const i = this.length;
    if (i === this.uncompressedSizes.length) this.grow();
    this.uncompressedOffsets[i] = chunk.uncompressedOffset;
    this.compressedOffsets[i] = chunk.compressedOffset;
    this.uncompressedSizes[i] = chunk.uncompressedSize;
    this.compressedSizes[i] = chunk.compressedSize;
    this.digestBytes.set(digest.subarray(0, DIGEST_SIZE), i * DIGEST_SIZE);
    this.length++;
    if (this.slots) {
      if (this.length * 2 > this.slots.length) this.rehash();
      else this.insert(i);
    }
    return i;
  }

  /** The chunk-info index of a chunk already stored with this digest, or -1. */
  find(digest: Uint8Array): number {
    const slots = this.slots;
    if (!slots) throw new Error('the chunk table is sealed');
    const mask = slots.length - 1;
    for (let s = this.hashOf(digest, 0) & mask; ; s = (s + 1) & mask) {
      const entry = slots[s];
      if (entry === 0) return -1;
      if (this.digestBytes.compare(digest, 0, DIGEST_SIZE, (entry - 1) * DIGEST_SIZE, entry * DIGEST_SIZE) === 0)
        return entry - 1;
    }
  }

  uncompressedOffset(i: number): number {
    return this.uncompressedOffsets[i];
  }

  at(i: number): ChunkInfo {
    return {
      uncompressedOffset: this.uncompressedOffsets[i],
      uncompressedSize: this.uncompressedSizes[i],
      compressedOffset: this.compressedOffsets[i],
      compressedSize: this.compressedSizes[i],
    };
  }

  digest(i: number): Buffer {
    return this.digestBytes.subarray(i * DIGEST_SIZE, (i + 1) * DIGEST_SIZE);
  }

  /** The digests back to back, 32 bytes each, in chunk-info order. */
  get digests(): Buffer {
    return this.digestBytes.subarray(0, this.length * DIGEST_SIZE);
  }

  /** Every chunk is added: the columns shrink to their length and the index goes. */
  seal(): void {
    const n = this.length;
    this.uncompressedOffsets = this.uncompressedOffsets.slice(0, n);
    this.compressedOffsets = this.compressedOffsets.slice(0, n);
    this.uncompressedSizes = this.uncompressedSizes.slice(0, n);
    this.compressedSizes = this.compressedSizes.slice(0, n);
    this.digestBytes = Buffer.from(this.digests);
    this.slots = undefined;
  }

  private grow(): void {
    const n = this.length + 1;
    this.uncompressedOffsets = grown(this.uncompressedOffsets, n);
    this.compressedOffsets = grown(this.compressedOffsets, n);
    this.uncompressedSizes = grown(this.uncompressedSizes, n);
    this.compressedSizes = grown(this.compressedSizes, n);
    const digests = Buffer.alloc(this.uncompressedSizes.length * DIGEST_SIZE);
    this.digestBytes.copy(digests);
    this.digestBytes = digests;
  }

  private hashOf(bytes: Uint8Array, at: number): number {
    return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  }

  private insert(i: number): void {
    const slots = this.slots!;
    const mask = slots.length - 1;
    let s = this.hashOf(this.digestBytes, i * DIGEST_SIZE) & mask;
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = i + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots!.length * 2);
    for (let i = 0; i < this.length; i++) this.insert(i);
  }
}

/**
 * Each file's chunk-info indexes, a run per file in one array: a file keeps where its run starts
 * (its count follows from its size), not an array of its own.
 */
export class FileChunks {
  private indexes = new Uint32Array(INITIAL);
  private length = 0;

  /** Room for a file's `count` chunks; returns where its run starts. */
  reserve(count: number): number {
    const start = this.length;
    this.length += count;
    if (this.length > this.indexes.length) this.indexes = grown(this.indexes, this.length);
    return start;
  }

  set(at: number, chunkIndex: number): void {
    this.indexes[at] = chunkIndex;
  }

  get(at: number): number {
    return this.indexes[at];
  }

  seal(): void {
    this.indexes = this.indexes.slice(0, this.length);
  }
}
