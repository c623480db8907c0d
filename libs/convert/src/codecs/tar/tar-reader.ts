import { Readable } from 'node:stream';
import { decodePaxRecords } from './pax';
import { TarEntryHeader, paddingFor } from './tar-header';
import { BLOCK, POSIX_MAGIC, USTAR, checksumMatches, isZeroBlock, readNumber, readString } from './ustar';

// Our own reader rather than tar-stream's or node-tar's: both decode PAX values as UTF-8, which
// corrupts binary xattrs (security.capability), and neither exposes the raw records.

export class TarFormatError extends Error {}

/** How far the reader runs ahead of the entry being read. */
const READ_AHEAD_BYTES = 2 << 20;

/** PAX headers and GNU long names are held in memory: larger ones are refused. */
const MAX_META_BYTES = 16 << 20;

const TYPES: Record<string, TarEntryHeader['type'] | 'contiguous-file'> = {
  '0': 'file',
  '\0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
};
/** Types tar writers use that a layer cannot hold (GNU dump dirs, multi-volume parts, volume labels). */
const UNSUPPORTED: Record<string, string> = {
  D: 'gnu-dumpdir',
  M: 'gnu-multivol',
  N: 'gnu-old-longname',
  V: 'gnu-volume-header',
};

/** A PAX time ("1700000000.123456789", possibly negative) as whole seconds (floor) and nanoseconds. */
export function paxTime(value: string | undefined): { seconds: number; nanos: number } | undefined {
  const m = value === undefined ? null : /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return undefined;
  const whole = Number(m[2]);
  const frac = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1] === '-' && frac > 0) return { seconds: -whole - 1, nanos: 1e9 - frac };
  return { seconds: m[1] === '-' ? -whole : whole, nanos: frac };
}

/** "ustar\0": the POSIX magic without its version. */
const POSIX_MAGIC_BYTES = Buffer.from(POSIX_MAGIC, 'latin1');

const shown = (latin1: string) => JSON.stringify(Buffer.from(latin1, 'latin1').toString('utf8'));

/**
 * Bytes of a stream taken in exact amounts, without copying what a chunk already holds. With
 * `recycle`, a chunk whose bytes have all been handed out goes back to it at the start of the
 * next read: by then whoever took those bytes is done with them (see readTar).
 */
class ByteSource {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already handed out. */
  private headAt = 0;
  private buffered = 0;
  /** Chunks handed out entirely, whose last piece may still be in its taker's hands. */
  private readonly spent: Buffer[] = [];
  private ended = false;
  private failure?: Error;
  private wake?: () => void;
  /** Bytes handed out so far: where in the stream an error is. */
  position = 0;

  get recycles(): boolean {
    return this.recycle !== undefined;
  }

  // 'data' events hand over the chunks as they are; the stream's async iterator would join
  // everything buffered into a new buffer on every read.
  constructor(
    private readonly input: Readable,
    private readonly recycle?: (chunk: Buffer) => void,
  ) {
    const notify = () => {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    };
    input.on('data', (c: Buffer) => {
      if (c.length > 0) {
        this.chunks.push(c);
        this.buffered += c.length;
      }
      if (this.buffered >= READ_AHEAD_BYTES) input.pause();
      notify();
    });
    input.once('end', () => {
      this.ended = true;
      notify();
    });
    input.once('error', (e) => {
      this.failure = e;
      notify();
    });
    input.once('close', () => {
      if (!this.ended) this.failure ??= new TarFormatError('the tar stream was closed before its end');
      notify();
    });
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.failure) throw this.failure;
      if (this.ended) return false;
      if (this.input.isPaused()) this.input.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return true;
  }

  /** Hands the chunks whose bytes are all out back for reuse. */
  private release(): void {
    if (!this.recycle) return;
    for (const c of this.spent) this.recycle(c);
    this.spent.length = 0;
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the stream. */
  async some(max: number): Promise<Buffer | undefined> {
    this.release();
    return this.piece(max);
  }

  private async piece(max: number): Promise<Buffer | undefined> {
    if (!(await this.fill(1))) return undefined;
    const head = this.chunks[0];
    const n = Math.min(head.length - this.headAt, max);
    const out = n === head.length ? head : head.subarray(this.headAt, this.headAt + n);
    this.headAt += n;
    if (this.headAt === head.length) {
      this.chunks.shift();
      this.headAt = 0;
      if (this.recycle) this.spent.push(head);
    }
    this.buffered -= n;
    this.position += n;
    return out;
  }

  /** Exactly `n` bytes; fewer (possibly none) when the stream ends first. */
  async take(n: number): Promise<Buffer> {
    this.release();
    if (this.chunks.length > 0 && this.chunks[0].length - this.headAt >= n) return (await this.piece(n))!;
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const c = await this.piece(n - got);
      if (!c) break;
      parts.push(c);
      got += c.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, got);
  }

  /** Nothing skipped is handed out: its chunks go back as soon as they are passed. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const c = await this.some(left);
      if (!c) break;
      left -= c.length;
    }
    this.release();
    return n - left;
  }

  /** Reads to the end (the diff_id covers bytes after the end-of-archive marker too). */
  async drain(): Promise<void> {
    while (await this.some(Number.MAX_SAFE_INTEGER));
    this.release();
  }
}

/** Extended attributes of the next entry: local PAX records over global ones, GNU long names. */
interface PendingMeta {
  global: Record<string, string>;
  pax?: Record<string, string>;
  longName?: string;
  longLink?: string;
}

/**
 * Reads a tar stream entry by entry, with names and PAX values byte-exact (latin1 strings).
 * Each body must be read, or left, before the next entry is asked for: what is left unread is
 * skipped then.
 * With `recycle` (the stream's chunk recycler, layer-stream's `chunkRecycler`), a piece a body
 * yields is the reader's only until it asks the body for the next one or the tar for the next
 * entry: its memory is then written again. Such bodies are iterated, never streamed.
 */
export async function* readTar(
  input: Readable,
  recycle?: (chunk: Buffer) => void,
): AsyncGenerator<{ header: TarEntryHeader; body: TarEntryBody }> {
  const src = new ByteSource(input, recycle);
  const meta: PendingMeta = { global: {} };
  for (;;) {
    const at = src.position;
    const block = await src.take(BLOCK);
    // A stream that stops at an entry boundary without the end marker is read as complete (as tar does).
    if (block.length === 0) return;
    if (block.length < BLOCK) throw new TarFormatError(`the tar stream ends early, inside the header at byte ${at}`);
    if (isZeroBlock(block)) {
      await src.drain();
      return;
    }
    if (!checksumMatches(block))
      throw new TarFormatError(
        `invalid tar header at byte ${at} (its checksum does not match): not a tar stream there`,
      );
    const flag = String.fromCharCode(block[USTAR.typeflag.offset]);
    const headerSize = readNumber(block, USTAR.size);
    if (headerSize === undefined)
      throw new TarFormatError(`invalid tar header at byte ${at} (its size is not a number)`);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (headerSize > MAX_META_BYTES)
        throw new TarFormatError(`a tar extended header at byte ${at} is ${headerSize} bytes; over 16 MiB is refused`);
      const body = await src.take(headerSize);
      if (body.length < headerSize)
        throw new TarFormatError(`the tar stream ends early, inside the header at byte ${at}`);
      // Read before the padding is skipped: that may hand the body's chunk back for reuse.
      readMeta(flag, body, meta, at);
      await src.skip(paddingFor(headerSize));
      continue;
    }
    const header = entryHeader(block, flag, headerSize, meta);
    meta.pax = meta.longName = meta.longLink = undefined;
    const body = new TarEntryBody(src, header.size, header.name);
    yield { header, body };
    await body.finish();
    await src.skip(paddingFor(header.size));
  }
}

/**
 * A tar entry's data, taken from the archive as its consumer asks: chunk by chunk as an async
 * iterable (no stream per entry: a layer of 100,000 small files made as many Readables and
 * their iterators, two fifths of what a conversion allocated), or once as a Readable.
 */
export class TarEntryBody implements AsyncIterable<Buffer> {
  private left: number;
  private readable?: Readable;
  /** The read in progress, if any: the skip waits for it rather than read beside it. */
  private reading?: Promise<unknown>;

  constructor(
    private readonly src: ByteSource,
    size: number,
    private readonly name: string,
  ) {
    this.left = size;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    while (this.left > 0) yield await this.next();
  }

  /** The rest of the data as a stream, for consumers that pipe (and so may hold chunks: never recycled). */
  stream(): Readable {
    if (this.src.recycles)
      throw new Error('a tar read with recycled chunks hands out pieces only through iteration, not as a stream');
    this.readable ??= new Readable({
      highWaterMark: 0,
      read: () => {
        if (this.left === 0) {
          this.readable!.push(null);
          return;
        }
        this.next().then(
          (chunk) => {
            this.readable!.push(chunk);
            if (this.left === 0) this.readable!.push(null);
          },
          (e: Error) => this.readable!.destroy(e),
        );
      },
    });
    return this.readable;
  }

  /** Skips what the consumer left, once it asks for the next entry. */
  async finish(): Promise<void> {
    const r = this.readable;
    if (r && !r.readableEnded && !r.destroyed) {
      r.resume();
      await new Promise<void>((resolve, reject) => {
        r.once('end', resolve);
        r.once('error', reject);
        r.once('close', () => (r.readableEnded ? resolve() : reject(new TarFormatError('tar entry closed early'))));
      });
    }
    await this.reading?.catch(() => undefined);
    if (this.left > 0) {
      const skipped = await this.src.skip(this.left);
      if (skipped < this.left) throw this.endsEarly();
      this.left = 0;
    }
  }

  private async next(): Promise<Buffer> {
    const read = this.src.some(this.left);
    this.reading = read;
    const chunk = await read;
    if (!chunk) throw this.endsEarly();
    this.left -= chunk.length;
    return chunk;
  }

  private endsEarly(): TarFormatError {
    return new TarFormatError(`the tar stream ends early, inside ${shown(this.name)}`);
  }
}

function readMeta(flag: string, body: Buffer, meta: PendingMeta, at: number): void {
  if (flag === 'L' || flag === 'K') {
    const end = body.indexOf(0);
    const name = body.subarray(0, end === -1 ? body.length : end).toString('latin1');
    if (flag === 'L') meta.longName = name;
    else meta.longLink = name;
    return;
  }
  const records = decodePaxRecords(body);
  if (!records) throw new TarFormatError(`invalid PAX extended header at byte ${at}`);
  if (flag === 'g') Object.assign(meta.global, records);
  else meta.pax = { ...(meta.pax ?? {}), ...records };
}

function entryHeader(block: Buffer, flag: string, size: number, meta: PendingMeta): TarEntryHeader {
  // POSIX splits long names over prefix and name; GNU's header uses that space for other fields.
  const posix = block.compare(POSIX_MAGIC_BYTES, 0, 6, USTAR.magic.offset, USTAR.magic.offset + 6) === 0;
  const prefix = posix && block[USTAR.prefix.offset] !== 0 ? readString(block, USTAR.prefix) : '';
  const ustarName = prefix ? `${prefix}/${readString(block, USTAR.name)}` : readString(block, USTAR.name);
  const paxRecords = Object.keys(meta.global).length || meta.pax ? { ...meta.global, ...(meta.pax ?? {}) } : undefined;
  const name = paxRecords?.path ?? meta.longName ?? ustarName;
  let type = TYPES[flag];
  // Old tars mark directories by a trailing slash on a regular-file entry.
  if (type === 'file' && name.endsWith('/')) type = 'directory';
  if (type === undefined) {
    if (UNSUPPORTED[flag])
      throw new TarFormatError(`unsupported tar entry type ${UNSUPPORTED[flag]} for ${shown(name)}`);
    throw new TarFormatError(
      `${shown(name)} has a tar entry type the converter does not know (a GNU tar --sparse file?); rebuild the layer without it`,
    );
  }
  if (paxRecords && Object.keys(paxRecords).some((k) => k.startsWith('GNU.sparse.'))) {
    throw new TarFormatError(
      `${shown(paxRecords['GNU.sparse.name'] ?? name)} is a sparse file (GNU tar --sparse), which the converter cannot expand; rebuild the layer without --sparse`,
    );
  }
  const num = (key: string, fallback: number) => {
    const v = paxRecords?.[key];
    return v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? Math.floor(Number(v)) : fallback;
  };
  const field = (f: (typeof USTAR)[keyof typeof USTAR]) => readNumber(block, f) ?? 0;
  const mtime = paxTime(paxRecords?.mtime);
  return {
    name,
    type: type === 'contiguous-file' ? 'file' : type,
    mode: field(USTAR.mode),
    uid: num('uid', field(USTAR.uid)),
    gid: num('gid', field(USTAR.gid)),
    size: num('size', size),
    mtime: mtime?.seconds ?? field(USTAR.mtime),
    mtimeNsec: mtime?.nanos ?? 0,
    linkname: paxRecords?.linkpath ?? meta.longLink ?? (readString(block, USTAR.linkname) || undefined),
    uname: paxRecords?.uname ?? readString(block, USTAR.uname),
    gname: paxRecords?.gname ?? readString(block, USTAR.gname),
    devmajor: field(USTAR.devmajor),
    devminor: field(USTAR.devminor),
    pax: paxRecords,
  };
}
