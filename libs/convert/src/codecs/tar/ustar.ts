/** One 512-byte tar block. */
export const BLOCK = 512;

interface Field {
  offset: number;
  size: number;
}

/** The USTAR header (POSIX.1-1988), field by field; GNU's header shares it up to `magic`. */
export const USTAR = {
  name: { offset: 0, size: 100 },
  mode: { offset: 100, size: 8 },
  uid: { offset: 108, size: 8 },
  gid: { offset: 116, size: 8 },
  size: { offset: 124, size: 12 },
  mtime: { offset: 136, size: 12 },
  checksum: { offset: 148, size: 8 },
  typeflag: { offset: 156, size: 1 },
  linkname: { offset: 157, size: 100 },
  /** "ustar\0" + version "00" (POSIX), or "ustar  \0" (GNU, which has no prefix field). */
  magic: { offset: 257, size: 8 },
  uname: { offset: 265, size: 32 },
  gname: { offset: 297, size: 32 },
  devmajor: { offset: 329, size: 8 },
  devminor: { offset: 337, size: 8 },
  prefix: { offset: 345, size: 155 },
} as const satisfies Record<string, Field>;

export const POSIX_MAGIC = 'ustar\x0000';
export const GNU_MAGIC = 'ustar  \x00';

/** Largest value an octal field holds (one byte is the terminator). */
export const maxOctal = (f: Field): number => 8 ** (f.size - 1) - 1;

export function writeBytes(block: Buffer, f: Field, value: Buffer): void {
  value.copy(block, f.offset, 0, Math.min(f.size, value.length));
}

export function writeOctal(block: Buffer, f: Field, value: number): void {
  const s = Math.trunc(value)
    .toString(8)
    .padStart(f.size - 1, '0');
  block.write(`${s}\0`, f.offset, f.size, 'ascii');
}

const CHECKSUM_END = USTAR.checksum.offset + USTAR.checksum.size;

/** Sum of the block's bytes with the checksum field counted as spaces. */
function unsignedSum(block: Buffer): number {
  let sum = 0x20 * USTAR.checksum.size;
  for (let i = 0; i < USTAR.checksum.offset; i++) sum += block[i];
  for (let i = CHECKSUM_END; i < BLOCK; i++) sum += block[i];
  return sum;
}

/** The same with bytes taken as signed, as some old tars computed it. */
function signedSum(block: Buffer): number {
  let sum = 0x20 * USTAR.checksum.size;
  for (let i = 0; i < USTAR.checksum.offset; i++) sum += (block[i] << 24) >> 24;
  for (let i = CHECKSUM_END; i < BLOCK; i++) sum += (block[i] << 24) >> 24;
  return sum;
}

/** The checksum a writer stores (unsigned). */
export const checksumOf = (block: Buffer): number => unsignedSum(block);

/** Fills the checksum field: six octal digits, NUL, space (as tar and Go write it). */
export function writeChecksum(block: Buffer): void {
  block.write(
    `${checksumOf(block).toString(8).padStart(6, '0')}\0 `,
    USTAR.checksum.offset,
    USTAR.checksum.size,
    'ascii',
  );
}

export function checksumMatches(block: Buffer): boolean {
  const stored = readNumber(block, USTAR.checksum);
  if (stored === undefined) return false;
  return stored === unsignedSum(block) || stored === signedSum(block);
}

/** A NUL-terminated string field as raw bytes in a latin1 string. */
export function readString(block: Buffer, f: Field): string {
  const limit = f.offset + f.size;
  let end = f.offset;
  while (end < limit && block[end] !== 0) end++;
  return end === f.offset ? '' : block.toString('latin1', f.offset, end);
}

/**
 * A numeric field: octal digits padded with spaces or NULs, or GNU's base-256 (high bit set)
 * for values octal cannot hold. `undefined` when it is neither.
 */
export function readNumber(block: Buffer, f: Field): number | undefined {
  const bytes = block.subarray(f.offset, f.offset + f.size);
  if (bytes[0] & 0x80) {
    // Big-endian two's complement with the marker bit cleared (as Go reads it: -a-1 == ^a).
    const inv = bytes[0] & 0x40 ? 0xff : 0;
    let x = 0;
    for (let i = 0; i < bytes.length; i++) x = x * 256 + ((bytes[i] ^ inv) & (i === 0 ? 0x7f : 0xff));
    const n = inv ? -x - 1 : x;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  // Octal digits after leading spaces, up to a space or NUL; read byte by byte (headers are hot).
  let i = 0;
  while (i < bytes.length && bytes[i] === 0x20) i++;
  let n = 0;
  for (; i < bytes.length && bytes[i] !== 0 && bytes[i] !== 0x20; i++) {
    if (bytes[i] < 0x30 || bytes[i] > 0x37) return undefined;
    n = n * 8 + (bytes[i] - 0x30);
  }
  for (; i < bytes.length; i++) if (bytes[i] !== 0 && bytes[i] !== 0x20) return undefined;
  return n;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}
