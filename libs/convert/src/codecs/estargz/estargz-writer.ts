import { createHash, Hash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { END_OF_ARCHIVE, TarEntryHeader, encodeTarHeader, paddingFor } from '../tar/tar-header';
import { DeflateEngine, pickDeflate } from '../deflate/deflate-engine';
import { GunzipEngine } from '../deflate/gunzip-engine';
import { estargzFooter } from './footer';
import { TocEntry, formatModtime, marshalToc } from './toc';

export const TOC_TAR_NAME = 'stargz.index.json';
export const NO_PREFETCH_LANDMARK = '.no.prefetch.landmark';
export const PREFETCH_LANDMARK = '.prefetch.landmark';
const LANDMARK_CONTENT = Buffer.from([0x0f]);
const EMPTY_SHA256 = `sha256:${createHash('sha256').digest('hex')}`;

export interface EstargzOptions {
  /** Files to place first, before `.prefetch.landmark` (none: `.no.prefetch.landmark` first). */
  prioritizedFiles?: string[];
  /** Scratch directory for reordering (needed with prioritized files). */
  workDir?: string;
  /** Largest uncompressed payload per gzip member (eStargz default 4 MiB). */
  chunkSize: number;
  /** gzip level (eStargz default 9). */
  level: number;
  /** Members compressing at once (memory ≈ this × chunk size × 2). */
  parallelMembers?: number;
  /** What compresses the members (default: libdeflate when its addon loads, else zlib). */
  deflate?: DeflateEngine;
  /** What decompresses the source layer (default: ISA-L when its addon loads, else zlib). */
  gunzip?: GunzipEngine;
}

export interface EstargzResult {
  /** sha256 of the blob as written. */
  digest: string;
  size: number;
  /** sha256 of the decompressed blob: the layer's new diff_id. */
  diffId: string;
  uncompressedSize: number;
  /** sha256 of the TOC JSON: the `containerd.io/snapshot/stargz/toc.digest` annotation. */
  tocDigest: string;
  entries: number;
  /** The DEFLATE engine that wrote the members. */
  deflate: string;
}

const TOC_TYPE: Record<TarEntryHeader['type'], TocEntry['type']> = {
  file: 'reg',
  link: 'hardlink',
  symlink: 'symlink',
  directory: 'dir',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

/** Entry names the writer owns: an input's own TOC or landmarks are dropped. */
export function isReservedName(name: string): boolean {
  const clean = name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  return clean === TOC_TAR_NAME || clean === PREFETCH_LANDMARK || clean === NO_PREFETCH_LANDMARK;
}

const utf8Name = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');

/**
 * Streams tar entries into an eStargz blob: a gzip member starts at the blob's top, at every
 * regular-file payload chunk, at the TOC and at the footer; tar headers and padding ride in
 * the member that is open. Members compress in parallel on the thread pool and are written in
 * order, so the output is the same bytes whatever the timing. Memory holds a few chunks, never
 * the layer.
 */
export class EstargzWriter {
  private readonly toc: (TocEntry & { member?: number })[] = [];
  private parts: Buffer[] = [];
  private open = -1;
  private nextMember = 0;
  private readonly pending: Promise<Buffer>[] = [];
  private readonly memberOffsets: number[] = [];
  private written = 0;
  private uncompressed = 0;
  private readonly diffHash: Hash = createHash('sha256');
  private readonly blobHash: Hash = createHash('sha256');
  private readonly lastNames = { uid: new Map<number, string>(), gid: new Map<number, string>() };
  private readonly deflate: DeflateEngine;

  constructor(
    private readonly out: Writable,
    private readonly opts: EstargzOptions,
  ) {
    this.deflate = opts.deflate ?? pickDeflate('auto').engine;
  }

  /** The first entry of every blob without a prefetch list. */
  writeNoPrefetchLandmark(): Promise<void> {
    return this.writeLandmark(NO_PREFETCH_LANDMARK);
  }

  /** Marks the end of the prioritized files: lazy pullers prefetch everything before it. */
  writePrefetchLandmark(): Promise<void> {
    return this.writeLandmark(PREFETCH_LANDMARK);
  }

  private writeLandmark(name: string): Promise<void> {
    return this.writeEntry(
      { name, type: 'file', mode: 0, uid: 0, gid: 0, size: LANDMARK_CONTENT.length, mtime: 0 },
      Readable.from([LANDMARK_CONTENT]),
    );
  }

  async writeEntry(h: TarEntryHeader, body?: Readable): Promise<void> {
    const entry: TocEntry = {
      name: utf8Name(h.name),
      type: TOC_TYPE[h.type],
      // The TOC holds whole seconds (rounded, as Go's formatModtime); the tar header keeps the fraction.
      modtime: formatModtime(h.mtime + ((h.mtimeNsec ?? 0) >= 5e8 ? 1 : 0)),
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      userName: this.nameIfChanged(this.lastNames.uid, h.uid, h.uname ?? ''),
      groupName: this.nameIfChanged(this.lastNames.gid, h.gid, h.gname ?? ''),
      xattrs: xattrsOf(h.pax),
    };
    if (h.type === 'link' || h.type === 'symlink') entry.linkName = utf8Name(h.linkname ?? '');
    if (h.type === 'character-device' || h.type === 'block-device') {
      entry.devMajor = h.devmajor;
      entry.devMinor = h.devminor;
    }
    this.ensureOpen();
    this.append(encodeTarHeader(h));
    if (h.type !== 'file') {
      this.toc.push(entry);
      if (body) await drain(body);
      return;
    }
    entry.size = h.size;
    // A file of one chunk has one digest for both: hashed once.
    const fileHash = h.size > this.opts.chunkSize ? createHash('sha256') : undefined;
    if (h.size === 0) {
      this.toc.push(entry);
      entry.digest = EMPTY_SHA256;
    } else {
      const reader = new ExactReader(body!);
      let done = 0;
      let ent: TocEntry & { member?: number } = entry;
      while (done < h.size) {
        const remain = h.size - done;
        const chunk = Math.min(remain, this.opts.chunkSize);
        if (remain >= this.opts.chunkSize) ent.chunkSize = chunk;
        await this.closeMember();
        this.ensureOpen();
        ent.member = this.open;
        ent.chunkOffset = done;
        const chunkHash = createHash('sha256');
        for await (const buf of reader.take(chunk, h.name)) {
          fileHash?.update(buf);
          chunkHash.update(buf);
          this.append(buf);
        }
        ent.chunkDigest = `sha256:${chunkHash.digest('hex')}`;
        if (!fileHash) entry.digest = ent.chunkDigest;
        this.toc.push(ent);
        done += chunk;
        ent = { name: entry.name, type: 'chunk' };
      }
      await reader.end(h.name);
    }
    if (fileHash) entry.digest = `sha256:${fileHash.digest('hex')}`;
    this.append(Buffer.alloc(paddingFor(h.size)));
  }

  /** Writes the TOC member and footer; resolves when every byte is handed to the output. */
  async finish(): Promise<EstargzResult> {
    await this.closeMember();
    await this.flush(0);
    const entries = this.toc.map(({ member, ...e }) =>
      member === undefined ? e : { ...e, offset: this.memberOffsets[member] },
    );
    const json = marshalToc({ version: 1, entries });
    const tocHeader = encodeTarHeader({
      name: TOC_TAR_NAME,
      type: 'file',
      mode: 0,
      uid: 0,
      gid: 0,
      size: json.length,
      mtime: 0,
    });
    const tocTar = Buffer.concat([tocHeader, json, Buffer.alloc(paddingFor(json.length)), END_OF_ARCHIVE]);
    this.diffHash.update(tocTar);
    this.uncompressed += tocTar.length;
    const tocOffset = this.written;
    await this.emit(await this.deflate.gzipMember([tocTar], this.opts.level));
    await this.emit(estargzFooter(tocOffset));
    return {
      digest: `sha256:${this.blobHash.digest('hex')}`,
      size: this.written,
      diffId: `sha256:${this.diffHash.digest('hex')}`,
      uncompressedSize: this.uncompressed,
      tocDigest: `sha256:${createHash('sha256').update(json).digest('hex')}`,
      entries: entries.length,
      deflate: this.deflate.name,
    };
  }

  private nameIfChanged(seen: Map<number, string>, id: number, name: string): string {
    if (!name || seen.get(id) === name) return '';
    seen.set(id, name);
    return name;
  }

  private ensureOpen(): void {
    if (this.open === -1) this.open = this.nextMember++;
  }

  private append(buf: Buffer): void {
    if (buf.length === 0) return;
    this.parts.push(buf);
    this.diffHash.update(buf);
    this.uncompressed += buf.length;
  }

  private async closeMember(): Promise<void> {
    if (this.open === -1) return;
    const compressed = this.deflate.gzipMember(this.parts, this.opts.level);
    this.parts = [];
    this.open = -1;
    compressed.catch(() => undefined); // surfaced in order by flush()
    this.pending.push(compressed);
    await this.flush(this.opts.parallelMembers ?? 4);
  }

  /** Writes finished members in order until at most `keep` are still compressing. */
  private async flush(keep: number): Promise<void> {
    while (this.pending.length > keep) {
      const member = await this.pending.shift()!;
      this.memberOffsets.push(this.written);
      await this.emit(member);
    }
  }

  private async emit(buf: Buffer): Promise<void> {
    this.blobHash.update(buf);
    this.written += buf.length;
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }
}

/** PAX `SCHILY.xattr.*` records as the TOC's base64 map (values are raw bytes in latin1 strings). */
function xattrsOf(pax: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!pax) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith('SCHILY.xattr.'))
      out[k.slice('SCHILY.xattr.'.length)] = Buffer.from(v, 'latin1').toString('base64');
  }
  return Object.keys(out).length ? out : undefined;
}

async function drain(body: Readable): Promise<void> {
  for await (const _ of body) {
    /* entries other than regular files carry no payload */
  }
}

/** Reads exact byte counts from a stream, across chunk boundaries. */
class ExactReader {
  private readonly it: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;

  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async *take(n: number, name: string): AsyncGenerator<Buffer> {
    let need = n;
    while (need > 0) {
      let buf = this.leftover;
      this.leftover = undefined;
      if (!buf) {
        const r = await this.it.next();
        if (r.done) throw new Error(`tar entry ${JSON.stringify(utf8Name(name))} ends early: truncated layer`);
        buf = r.value;
      }
      if (buf.length > need) {
        this.leftover = buf.subarray(need);
        buf = buf.subarray(0, need);
      }
      need -= buf.length;
      yield buf;
    }
  }

  async end(name: string): Promise<void> {
    if (this.leftover?.length)
      throw new Error(`tar entry ${JSON.stringify(utf8Name(name))} is longer than its header says`);
    const r = await this.it.next();
    if (!r.done && r.value.length)
      throw new Error(`tar entry ${JSON.stringify(utf8Name(name))} is longer than its header says`);
  }
}
