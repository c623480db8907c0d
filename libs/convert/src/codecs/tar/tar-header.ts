import { encodePaxRecord } from './pax';
import { BLOCK, POSIX_MAGIC, USTAR, maxOctal, writeBytes, writeChecksum, writeOctal } from './ustar';

/** What a tar entry's header says, format-neutral. */
export interface TarEntryHeader {
  /** Raw name bytes as a latin1 string (whether they came from the USTAR fields or a PAX record). */
  name: string;
  type: 'file' | 'link' | 'symlink' | 'directory' | 'character-device' | 'block-device' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Sub-second part of the modification time (PAX `mtime`), kept wherever the output can hold it. */
  mtimeNsec?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records (values as raw-byte latin1 strings); the ones this encoder derives are ignored. */
  pax?: Record<string, string>;
}

const TYPEFLAG: Record<TarEntryHeader['type'], string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

/** PAX keys this encoder writes itself when the USTAR fields cannot hold the value. */
const DERIVED_PAX = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'atime', 'ctime']);

/** PAX time as Go's archive/tar writes it: seconds, then the fraction without trailing zeros. */
export function formatPaxTime(seconds: number, nanos: number): string {
  if (!nanos) return String(seconds);
  // Negative times with a fraction: -1.5 s is seconds −2 plus 0.5e9 ns.
  const neg = seconds < 0;
  const whole = neg ? -(seconds + 1) : seconds;
  const frac = neg ? 1e9 - nanos : nanos;
  return `${neg ? '-' : ''}${whole}.${String(frac).padStart(9, '0').replace(/0+$/, '')}`;
}

export const paddingFor = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** Names and PAX values travel as latin1 strings so that every byte survives unchanged. */
const raw = (s: string): Buffer => Buffer.from(s, 'latin1');

/** USTAR can store a path of ≤ 100 bytes, or split at a '/' into prefix (≤ 155) and name (≤ 100). */
function splitUstarPath(path: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (path.length <= 100) return { prefix: Buffer.alloc(0), name: path };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== 0x2f) continue;
    const prefix = path.subarray(0, i);
    const name = path.subarray(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { prefix, name };
    if (path.length - i > 100) break;
  }
  return undefined;
}

function ustarBlock(
  h: TarEntryHeader,
  typeflag: string,
  name: { prefix: Buffer; name: Buffer },
  size: number,
  linkname: Buffer,
): Buffer {
  const buf = Buffer.alloc(BLOCK);
  writeBytes(buf, USTAR.name, name.name);
  writeOctal(buf, USTAR.mode, h.mode & maxOctal(USTAR.mode));
  writeOctal(buf, USTAR.uid, Math.min(h.uid, maxOctal(USTAR.uid)));
  writeOctal(buf, USTAR.gid, Math.min(h.gid, maxOctal(USTAR.gid)));
  writeOctal(buf, USTAR.size, Math.min(size, maxOctal(USTAR.size)));
  writeOctal(buf, USTAR.mtime, Math.min(Math.max(h.mtime, 0), maxOctal(USTAR.mtime)));
  writeBytes(buf, USTAR.typeflag, Buffer.from(typeflag, 'ascii'));
  writeBytes(buf, USTAR.linkname, linkname);
  writeBytes(buf, USTAR.magic, Buffer.from(POSIX_MAGIC, 'latin1'));
  writeBytes(buf, USTAR.uname, raw(h.uname ?? ''));
  writeBytes(buf, USTAR.gname, raw(h.gname ?? ''));
  writeOctal(buf, USTAR.devmajor, Math.min(h.devmajor ?? 0, maxOctal(USTAR.devmajor)));
  writeOctal(buf, USTAR.devminor, Math.min(h.devminor ?? 0, maxOctal(USTAR.devminor)));
  writeBytes(buf, USTAR.prefix, name.prefix);
  writeChecksum(buf);
  return buf;
}

/**
 * Encodes one entry's header blocks: USTAR, preceded by a PAX extended header when a value
 * does not fit USTAR (long or non-ASCII names, big sizes or ids, xattrs and other records).
 */
export function encodeTarHeader(h: TarEntryHeader): Buffer {
  const path = raw(h.name);
  const link = raw(h.linkname ?? '');
  const records: [string, Buffer][] = [];
  const split = splitUstarPath(path);
  if (!split) records.push(['path', path]);
  if (link.length > 100) records.push(['linkpath', link]);
  if (h.size > maxOctal(USTAR.size)) records.push(['size', Buffer.from(String(h.size))]);
  if (h.uid > maxOctal(USTAR.uid)) records.push(['uid', Buffer.from(String(h.uid))]);
  if (h.gid > maxOctal(USTAR.gid)) records.push(['gid', Buffer.from(String(h.gid))]);
  if (raw(h.uname ?? '').length > 32) records.push(['uname', raw(h.uname ?? '')]);
  if (raw(h.gname ?? '').length > 32) records.push(['gname', raw(h.gname ?? '')]);
  if (h.mtimeNsec) records.push(['mtime', Buffer.from(formatPaxTime(h.mtime, h.mtimeNsec))]);
  else if (h.mtime < 0 || h.mtime > maxOctal(USTAR.mtime)) records.push(['mtime', Buffer.from(String(h.mtime))]);
  for (const [k, v] of Object.entries(h.pax ?? {})) if (!DERIVED_PAX.has(k)) records.push([k, raw(v)]);
  const main = ustarBlock(
    h,
    TYPEFLAG[h.type],
    split ?? { prefix: Buffer.alloc(0), name: path.subarray(0, 100) },
    h.size,
    link.subarray(0, 100),
  );
  if (records.length === 0) return main;
  records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = Buffer.concat(records.map(([k, v]) => encodePaxRecord(k, v)));
  const base = h.name.replace(/\/+$/, '').split('/').pop() ?? '';
  const paxName = raw(`PaxHeaders.0/${base}`).subarray(0, 100);
  const paxHeader = ustarBlock(
    { ...h, mode: 0, uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 },
    'x',
    { prefix: Buffer.alloc(0), name: paxName },
    body.length,
    Buffer.alloc(0),
  );
  return Buffer.concat([paxHeader, body, Buffer.alloc(paddingFor(body.length)), main]);
}

/** Two zero blocks: the end of a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
