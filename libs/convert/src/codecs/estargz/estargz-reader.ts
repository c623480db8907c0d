import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { ESTARGZ_FOOTER_SIZE, parseEstargzFooter } from './footer';
import { Toc, TocEntry } from './toc';

/** Reads `length` bytes at `offset` of a blob (a file, a Buffer, a registry Range GET). */
export type RangeReader = (offset: number, length: number) => Promise<Buffer>;

export interface OpenedEstargz {
  toc: Toc;
  tocOffset: number;
  tocDigest: string;
  /** The content of a regular file, assembled from its chunks and checked against every digest. */
  readFile(name: string): Promise<Buffer>;
}

export class EstargzFormatError extends Error {}

/** Opens an eStargz blob as a lazy puller does: footer → TOC member → entries by offset. */
export async function openEstargz(read: RangeReader, size: number): Promise<OpenedEstargz> {
  if (size < ESTARGZ_FOOTER_SIZE) throw new EstargzFormatError('blob is smaller than an eStargz footer');
  const tocOffset = parseEstargzFooter(await read(size - ESTARGZ_FOOTER_SIZE, ESTARGZ_FOOTER_SIZE));
  if (tocOffset === undefined || tocOffset >= size - ESTARGZ_FOOTER_SIZE)
    throw new EstargzFormatError('no eStargz footer');
  const tar = gunzipSync(await read(tocOffset, size - ESTARGZ_FOOTER_SIZE - tocOffset));
  const name = tar.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
  if (name !== 'stargz.index.json') throw new EstargzFormatError(`TOC member holds ${JSON.stringify(name)}`);
  const jsonSize = parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
  const json = tar.subarray(512, 512 + jsonSize);
  const toc = JSON.parse(json.toString('utf8')) as Toc;
  const tocDigest = `sha256:${createHash('sha256').update(json).digest('hex')}`;
  const offsets = [...new Set(toc.entries.filter((e) => e.offset).map((e) => e.offset!))].sort((a, b) => a - b);
  const nextOffset = (off: number) => offsets.find((o) => o > off) ?? tocOffset;

  async function readChunk(e: TocEntry, fileSize: number): Promise<Buffer> {
    const start = e.offset!;
    const member = gunzipSync(await read(start, nextOffset(start) - start));
    const length = e.chunkSize || fileSize - (e.chunkOffset ?? 0);
    const data = member.subarray(e.innerOffset ?? 0, (e.innerOffset ?? 0) + length);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (e.chunkDigest && digest !== e.chunkDigest)
      throw new EstargzFormatError(
        `chunk of ${e.name} at ${e.chunkOffset ?? 0} has digest ${digest}, TOC says ${e.chunkDigest}`,
      );
    return data;
  }

  return {
    toc,
    tocOffset,
    tocDigest,
    async readFile(fileName: string): Promise<Buffer> {
      const i = toc.entries.findIndex((e) => e.name === fileName && e.type === 'reg');
      if (i === -1) throw new EstargzFormatError(`no regular file ${fileName}`);
      const reg = toc.entries[i];
      if (!reg.size) return Buffer.alloc(0);
      const parts = [await readChunk(reg, reg.size)];
      for (
        let j = i + 1;
        j < toc.entries.length && toc.entries[j].type === 'chunk' && toc.entries[j].name === fileName;
        j++
      ) {
        parts.push(await readChunk(toc.entries[j], reg.size));
      }
      const data = Buffer.concat(parts);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      if (data.length !== reg.size || digest !== reg.digest)
        throw new EstargzFormatError(
          `${fileName} reassembles to ${digest} (${data.length} bytes), TOC says ${reg.digest} (${reg.size})`,
        );
      return data;
    },
  };
}

export const bufferRangeReader =
  (buf: Buffer): RangeReader =>
  async (offset, length) =>
    buf.subarray(offset, offset + length);
