import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { GunzipEngine, GzipDataError, isRecycling, pickGunzip } from '../deflate/gunzip-engine';
import { TarFormatError } from './tar-reader';

/** The source layer cannot be read as a layer: what is wrong and where. */
export class LayerFormatError extends Error {}

/** After a tar error in a gzip layer, read at most this much more to learn whether the gzip itself is damaged. */
const DIAGNOSE_MAX_BYTES = 64 << 20;
const DIAGNOSE_MAX_MS = 10_000;

/** Byte counts of a gzip layer as it is read: where a failure happened. */
interface GzipProgress {
  compressed: number;
  decompressed: number;
  failure?: { error: Error; atCompressed: number; atDecompressed: number };
  ended: Promise<void>;
}

const progressOf = new WeakMap<Readable, GzipProgress>();
const recyclerOf = new WeakMap<Readable, (chunk: Buffer) => void>();

/**
 * Where a tar stream's reader may hand back the chunks it is done with (readTar's `recycle`),
 * when its gunzip reuses them; undefined otherwise.
 */
export const chunkRecycler = (tar: Readable): ((chunk: Buffer) => void) | undefined => recyclerOf.get(tar);

/** Yields the stream's chunks after looking at its first bytes. */
async function sniff(source: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  const first: Buffer[] = [];
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    first.push(r.value);
    head = Buffer.concat([head, r.value]);
  }
  async function* rest() {
    yield* first;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, stream: Readable.from(rest(), { objectMode: false }) };
}

/** How far gunzip may run ahead of the reader, on the thread pool, and which one runs. */
export interface GunzipBuffering {
  /** Bytes per decompressed chunk. */
  chunkSize: number;
  /** Decompressed bytes buffered ahead of the reader. */
  readAhead: number;
  /** Whether chunks leave memory as soon as they are collected, at some cost in speed (see GunzipEngine). */
  lean?: boolean;
  /** Default: ISA-L when its addon loads, else zlib. */
  engine?: GunzipEngine;
}

/**
 * Large chunks and a deep buffer: for readers as fast as gunzip itself (Nydus). Lean: the
 * converter keeps so little on its heap that collections are rare, and chunks from malloc stayed
 * resident until one (a 1 GB layer peaked at 180-189 MiB rather than 162-165, in the same time).
 */
export const NYDUS_READ_AHEAD: GunzipBuffering = { chunkSize: 1 << 20, readAhead: 4 << 20, lean: true };

/**
 * The tar stream inside a layer blob (gzip or plain; zstd layers are refused). `tap` sees every
 * uncompressed byte in order (for the diff_id), without another stream in the way.
 */
export async function tarStreamOf(
  source: Readable,
  tap?: (chunk: Buffer) => void,
  buffering: GunzipBuffering = NYDUS_READ_AHEAD,
): Promise<Readable> {
  const { head, stream } = await sniff(source);
  let tar: Readable;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = (buffering.engine ?? pickGunzip('auto').engine).createGunzip(buffering.chunkSize, buffering.lean);
    const ahead = new PassThrough({ highWaterMark: buffering.readAhead });
    let settle!: () => void;
    const progress: GzipProgress = { compressed: 0, decompressed: 0, ended: new Promise<void>((r) => (settle = r)) };
    stream.on('data', (c: Buffer) => (progress.compressed += c.length));
    gunzip.on('data', (c: Buffer) => {
      progress.decompressed += c.length;
      tap?.(c);
    });
    gunzip.on('end', settle);
    // pipe() does not forward errors: a corrupt gzip must fail the reader, not stall it.
    gunzip.on('error', (e) => {
      progress.failure = { error: e, atCompressed: progress.compressed, atDecompressed: progress.decompressed };
      settle();
      ahead.destroy(e);
    });
    tar = stream.pipe(gunzip).pipe(ahead);
    progressOf.set(tar, progress);
    // The read-ahead passes chunks on as they are: the reader gets gunzip's own buffers back.
    if (isRecycling(gunzip)) recyclerOf.set(tar, (c) => gunzip.recycle(c));
  } else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528)
    throw new LayerFormatError('zstd-compressed source layers are not supported yet');
  else tar = tap ? stream.pipe(new Transform({ transform: (c: Buffer, _e, done) => (tap(c), done(null, c)) })) : stream;
  stream.on('error', (e) => tar.destroy(e));
  return tar;
}

const isZlibError = (e: unknown): boolean =>
  e instanceof GzipDataError || String((e as { code?: string })?.code ?? '').startsWith('Z_');

/** Readable classification of what went wrong while reading a layer (without positions). */
export function asLayerError(e: unknown): unknown {
  if (e instanceof LayerFormatError) return e;
  if (isZlibError(e) || e instanceof TarFormatError)
    return new LayerFormatError(`source layer is corrupt: ${(e as Error).message}`);
  return e;
}

function gzipDamage(f: NonNullable<GzipProgress['failure']>): LayerFormatError {
  return new LayerFormatError(
    `source layer is corrupt: its gzip stream is damaged at about byte ${f.atCompressed} of the blob (${f.atDecompressed} bytes decompressed): ${f.error.message}`,
  );
}

/**
 * Why reading a layer's tar failed, and where. Garbage from a damaged deflate stream usually
 * reaches the tar parser before zlib notices, so a tar error in a gzip layer reads on (bounded)
 * to learn whether the gzip is at fault.
 */
export async function explainLayerFailure(tar: Readable, e: unknown): Promise<unknown> {
  if (e instanceof LayerFormatError) return e;
  const progress = progressOf.get(tar);
  if (!progress) return asLayerError(e);
  if (progress.failure) return gzipDamage(progress.failure);
  if (!(e instanceof TarFormatError)) return e;
  const tarAt = progress.decompressed;
  if (!tar.destroyed) {
    const limit = progress.compressed + DIAGNOSE_MAX_BYTES;
    const onData = () => {
      if (progress.compressed > limit) tar.destroy();
    };
    tar.on('data', onData);
    tar.on('error', () => undefined);
    tar.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([progress.ended, new Promise<void>((r) => (timer = setTimeout(r, DIAGNOSE_MAX_MS)))]);
    clearTimeout(timer);
    tar.off('data', onData);
    tar.destroy();
  }
  if (progress.failure) return gzipDamage(progress.failure);
  return new LayerFormatError(
    `source layer is corrupt: its tar stream is invalid within the first ${tarAt} decompressed bytes: ${e.message}`,
  );
}

/**
 * Runs `use` on the tar inside a layer blob; a failure to read it says what is corrupt and where.
 * With `diffId` (the image config's rootfs.diff_ids entry), the whole uncompressed stream must
 * hash to it, as containerd checks when it unpacks.
 */
export async function withLayerTar<T>(
  source: Readable,
  use: (tar: Readable) => Promise<T>,
  diffId?: string,
  buffering?: GunzipBuffering,
): Promise<T> {
  // On the main thread: SHA-256 runs at GB/s with CPU support, and a worker's isolate would cost
  // more memory than the converter itself holds.
  const hash = diffId ? createHash('sha256') : undefined;
  const tar = await tarStreamOf(source, hash && ((c) => hash.update(c)), buffering);
  let result: T;
  try {
    result = await use(tar);
    // The tar reader stops at the end-of-archive marker; the diff_id covers what follows too.
    if (diffId && !tar.readableEnded) {
      tar.resume();
      await finished(tar);
    }
  } catch (e) {
    throw await explainLayerFailure(tar, e);
  }
  if (diffId && hash) {
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== diffId)
      throw new LayerFormatError(
        `source layer does not match its diff_id: the image config says ${diffId}, the layer uncompresses to ${got}`,
      );
  }
  return result;
}
