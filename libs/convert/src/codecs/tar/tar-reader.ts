import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { TarEntryHeader } from './tar-header';

// tar-stream decodes PAX values as UTF-8, which corrupts binary xattrs (security.capability).
// Its header module is patched once to keep every PAX value as raw bytes (a latin1 string),
// matching how names are read (filenameEncoding latin1), so nothing is lost on re-encoding.
const requireHere = createRequire(__filename);
const tarHeaders = requireHere(join(dirname(requireHere.resolve('tar-stream')), 'headers.js')) as {
  decodePax: (b: Buffer) => Record<string, string>;
};
tarHeaders.decodePax = function decodePaxRaw(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.subarray(0, i).toString('ascii'), 10);
    if (!len) return result;
    const record = buf.subarray(i + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) return result;
    result[record.subarray(0, eq).toString('utf8')] = record.subarray(eq + 1).toString('latin1');
    buf = buf.subarray(len);
  }
  return result;
};

export class TarFormatError extends Error {}

const SUPPORTED = new Set([
  'file',
  'link',
  'symlink',
  'directory',
  'character-device',
  'block-device',
  'fifo',
  'contiguous-file',
]);

/** A PAX time ("1700000000.123456789", possibly negative) as whole seconds (floor) and nanoseconds. */
export function paxTime(value: string | undefined): { seconds: number; nanos: number } | undefined {
  const m = value === undefined ? null : /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return undefined;
  const whole = Number(m[2]);
  const frac = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1] === '-' && frac > 0) return { seconds: -whole - 1, nanos: 1e9 - frac };
  return { seconds: m[1] === '-' ? -whole : whole, nanos: frac };
}

/** Reads a tar stream entry by entry (tar-stream), with names and PAX values byte-exact. */
export async function* readTar(input: Readable): AsyncGenerator<{ header: TarEntryHeader; body: Readable }> {
  const extract = tarStream.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tarStream.extract>[0]);
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract);
  for await (const entry of extract) {
    const h = entry.header as tarStream.Header & { pax?: Record<string, string> | null; type?: string };
    if (h.type === null || h.type === undefined) {
      // tar-stream gives no type for flags it does not know, GNU's old-style sparse 'S' among them.
      entry.resume();
      extract.destroy(new TarFormatError('unknown entry type'));
      throw new TarFormatError(
        `${JSON.stringify(Buffer.from(h.name, 'latin1').toString('utf8'))} has a tar entry type the converter does not know (a GNU tar --sparse file?); rebuild the layer without it`,
      );
    }
    if (!SUPPORTED.has(h.type ?? '')) {
      entry.resume();
      extract.destroy(new TarFormatError(`unsupported tar entry type ${h.type} for ${JSON.stringify(h.name)}`));
      throw new TarFormatError(
        `unsupported tar entry type ${h.type} for ${JSON.stringify(Buffer.from(h.name, 'latin1').toString('utf8'))}`,
      );
    }
    const pax = h.pax ?? undefined;
    const num = (key: string, fallback: number) =>
      pax?.[key] !== undefined && /^-?\d+(\.\d+)?$/.test(pax[key]) ? Math.floor(Number(pax[key])) : fallback;
    if (pax && Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) {
      entry.resume();
      const real = pax['GNU.sparse.name'] ?? h.name;
      extract.destroy(new TarFormatError('sparse file'));
      throw new TarFormatError(
        `${JSON.stringify(Buffer.from(real, 'latin1').toString('utf8'))} is a sparse file (GNU tar --sparse), which the converter cannot expand; rebuild the layer without --sparse`,
      );
    }
    const mtime = paxTime(pax?.mtime);
    const header: TarEntryHeader = {
      name: h.name,
      type: h.type === 'contiguous-file' ? 'file' : (h.type as TarEntryHeader['type']),
      mode: h.mode ?? 0,
      uid: num('uid', h.uid ?? 0),
      gid: num('gid', h.gid ?? 0),
      size: h.size ?? 0,
      mtime: mtime?.seconds ?? Math.floor((h.mtime?.getTime() ?? 0) / 1000),
      mtimeNsec: mtime?.nanos ?? 0,
      linkname: h.linkname ?? undefined,
      uname: pax?.uname ?? h.uname ?? '',
      gname: pax?.gname ?? h.gname ?? '',
      devmajor: h.devmajor ?? 0,
      devminor: h.devminor ?? 0,
      pax,
    };
    yield { header, body: entry as unknown as Readable };
  }
}
