import { Transform, TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { nativeEngine, pickEngine } from './native-addon';

/** Streaming gzip decompression of a layer: every member in turn, each one's CRC32 and size checked. */
export interface GunzipEngine {
  /** What ran, for logs and benchmarks: `isa-l 2.30.0` or `zlib 1.3`. */
  readonly name: string;
  /**
   * A stream of the decompressed bytes, in chunks of `chunkSize` (the last may be shorter).
   * `lean`: each chunk is mapped for itself and unmapped once collected. From malloc, once
   * glibc's adaptive mmap threshold has grown past the chunk size, chunks come from its heap and
   * the freed ones stay resident (70-80 MiB of an eStargz conversion's peak); mapped, each chunk
   * costs fresh page faults (within the noise of a Nydus conversion of 1 GB).
   */
  createGunzip(chunkSize: number, lean?: boolean): Transform;
}

/**
 * A gunzip whose full output chunks can be handed back to be written again: a layer then costs
 * a handful of chunks in all rather than an ArrayBuffer per MiB. Each such buffer, once it
 * outlived two scavenges, counted against V8's old-generation limit until a full collection
 * freed it: a converter with a 25 MB heap ran one every 10-20 MiB of layer, ≈ 1.5 s per GB.
 */
export interface RecyclingGunzip extends Transform {
  /** `chunk`, one this stream pushed, is read no more by anyone: its memory may be written again. */
  recycle(chunk: Buffer): void;
}

export const isRecycling = (t: Transform): t is RecyclingGunzip =>
  typeof (t as Partial<RecyclingGunzip>).recycle === 'function';

export type GunzipChoice = 'auto' | 'isal' | 'zlib';

/** A gzip stream that cannot be decompressed: damaged, truncated, or not gzip after all. */
export class GzipDataError extends Error {
  readonly code = 'ERR_GZIP_DATA';
}

/** Node's zlib on libuv's thread pool: always there, the fallback. */
export const zlibGunzip: GunzipEngine = {
  name: `zlib ${process.versions.zlib}`,
  createGunzip: (chunkSize) => createGunzip({ chunkSize }),
};

interface IsalAddon {
  gunzipCreate(): object;
  /** Resolves with where the input and output stand, and whether the stream stopped inside a member. */
  gunzipRun(
    state: object,
    input: Buffer,
    inAt: number,
    output: Buffer,
    outAt: number,
  ): Promise<[number, number, boolean]>;
  /** An output buffer that leaves memory as soon as it is collected (mapped, not from malloc's arenas). */
  gunzipOutput(size: number): Buffer;
  isalVersion: string;
}

/** Compressed bytes gathered while an inflate runs, for the next one. */
const INPUT_BATCH = 1 << 20;

/** Chunks kept for reuse beyond those in flight: a reader that keeps none back needs a few. */
const MAX_FREE_CHUNKS = 4;

/**
 * ISA-L's inflate (about three times zlib's speed) driven from a Transform: one call on the
 * thread pool per batch of waiting input or filled output chunk, outputs handed on only when full.
 */
class IsalGunzip extends Transform implements RecyclingGunzip {
  private readonly state: object;
  /** Full chunks pushed and not yet handed back: only these may be recycled, and each only once. */
  private readonly lent = new WeakSet<Buffer>();
  private readonly free: Buffer[] = [];
  private out: Buffer;
  private staging?: Buffer;
  private outAt = 0;
  private inMember = false;

  constructor(
    private readonly addon: IsalAddon,
    private readonly chunkSize: number,
    private readonly lean: boolean,
  ) {
    super({ writableHighWaterMark: INPUT_BATCH });
    this.state = addon.gunzipCreate();
    this.out = this.newOutput();
  }

  private newOutput(): Buffer {
    return (
      this.free.pop() ?? (this.lean ? this.addon.gunzipOutput(this.chunkSize) : Buffer.allocUnsafeSlow(this.chunkSize))
    );
  }

  recycle(chunk: Buffer): void {
    if (!this.lent.delete(chunk)) return;
    if (this.free.length < MAX_FREE_CHUNKS) this.free.push(chunk);
  }

  /**
   * Input waiting while an inflate runs, taken in one call: a registry's body comes in 64 KiB
   * chunks, and with one call on the thread pool per chunk a 1 GB Nydus conversion took 3.2-3.6 s
   * to a file instead of 3.05-3.2. Joined in one staging buffer, reused: the inflate is done with
   * it when it settles.
   */
  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    const total = chunks.reduce((n, c) => n + c.chunk.length, 0);
    if (!this.staging || this.staging.length < total)
      this.staging = Buffer.allocUnsafeSlow(Math.max(total, INPUT_BATCH));
    let at = 0;
    for (const { chunk } of chunks) at += chunk.copy(this.staging, at);
    // Transform's own write: it holds the callback back while the readable side is full.
    this._write(this.staging.subarray(0, total), 'buffer' as BufferEncoding, done);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.inflate(chunk).then(
      () => done(),
      (e: Error) => done(new GzipDataError(e.message)),
    );
  }

  override _flush(done: TransformCallback): void {
    // A member cut short may still hold output: drain it, then call the stream what it is.
    this.inflate(Buffer.alloc(0)).then(
      () => {
        if (this.inMember) return done(new GzipDataError('unexpected end of file'));
        if (this.outAt > 0) this.push(this.out.subarray(0, this.outAt));
        done();
      },
      (e: Error) => done(new GzipDataError(e.message)),
    );
  }

  private async inflate(input: Buffer): Promise<void> {
    let inAt = 0;
    for (;;) {
      const before = [inAt, this.outAt];
      [inAt, this.outAt, this.inMember] = await this.addon.gunzipRun(this.state, input, inAt, this.out, this.outAt);
      if (this.outAt === this.out.length) {
        this.lent.add(this.out);
        this.push(this.out);
        this.out = this.newOutput();
        this.outAt = 0;
        continue; // a full output may have left more waiting inside the state
      }
      if (inAt === input.length) return;
      if (inAt === before[0] && this.outAt === before[1]) throw new Error('gunzip made no progress');
    }
  }
}

/** ISA-L through the native addon, or why it is not available. */
export const loadIsal = nativeEngine<IsalAddon, GunzipEngine>('accel_gunzip', 'libisal-dev', (addon) => ({
  name: `isa-l ${addon.isalVersion}`,
  createGunzip: (size, lean) => new IsalGunzip(addon, size, lean ?? false),
}));

/** The engine a process decompresses layers with: `auto` takes ISA-L when its addon loads, `isal` insists. */
export const pickGunzip = (choice: GunzipChoice) =>
  pickEngine('converter.gunzip', choice, { choice: 'isal', load: loadIsal }, { choice: 'zlib', engine: zlibGunzip });
