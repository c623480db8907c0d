import { PassThrough, Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TarFormatError, readTar } from '../tar/tar-reader';
import { tmpdir } from 'node:os';
import { EstargzOptions, EstargzResult, EstargzWriter, isReservedName } from './estargz-writer';
import { writePrioritized } from './prioritized';

export class LayerFormatError extends Error {}

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

/**
 * Converts one layer (gzip or plain tar) to eStargz, streaming: decompress → parse → rewrite.
 * The landmark comes first; the input's own TOC and landmarks are dropped.
 */
/** The tar stream inside a layer blob (gzip or plain; zstd layers are refused). */
export async function tarStreamOf(source: Readable): Promise<Readable> {
  const { head, stream } = await sniff(source);
  let tar: Readable;
  // Large output chunks and a deep buffer let gunzip run ahead of the converter on the thread pool.
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    const ahead = new PassThrough({ highWaterMark: 4 << 20 });
    // pipe() does not forward errors: a corrupt gzip must fail the reader, not stall it.
    gunzip.on('error', (e) => ahead.destroy(e));
    tar = stream.pipe(gunzip).pipe(ahead);
  }
  else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) throw new LayerFormatError('zstd-compressed source layers are not supported yet');
  else tar = stream;
  stream.on('error', (e) => tar.destroy(e));
  return tar;
}

/** Readable classification of what went wrong while reading a layer. */
export function asLayerError(e: unknown): unknown {
  if (e instanceof LayerFormatError) return e;
  const message = (e as Error).message;
  const zlibError = String((e as { code?: string }).code ?? '').startsWith('Z_');
  if (zlibError || e instanceof TarFormatError || /Invalid tar header|truncated|ends early|unknown format|Unexpected end of data/i.test(message)) {
    return new LayerFormatError(`source layer is corrupt: ${message}`);
  }
  return e;
}

export async function convertLayerToEstargz(source: Readable, out: Writable, opts: EstargzOptions): Promise<EstargzResult> {
  const tar = await tarStreamOf(source);
  const writer = new EstargzWriter(out, opts);
  try {
    if (opts.prioritizedFiles?.length) {
      await writePrioritized(tar, writer, opts.prioritizedFiles, opts.workDir ?? tmpdir());
    } else {
      await writer.writeNoPrefetchLandmark();
      for await (const { header, body } of readTar(tar)) {
        if (isReservedName(header.name)) {
          body.resume();
          continue;
        }
        await writer.writeEntry(header, body);
      }
    }
  } catch (e) {
    throw asLayerError(e);
  }
  return writer.finish();
}
