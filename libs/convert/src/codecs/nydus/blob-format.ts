/** Nydus blob layout constants and records (native `tar-rafs --blob-inline-meta --features blob-toc`). */

export const CHUNK_ALIGN = 4096;
export const BLOCK = 4096;

/** `compress::Algorithm` numbering used in blob tables and CCT headers. */
export const Compressor = { none: 0, lz4_block: 1, gzip: 2, zstd: 3 } as const;
export type CompressorName = keyof typeof Compressor;
export const Digester = { blake3: 0, sha256: 1 } as const;
export type DigesterName = keyof typeof Digester;

/** TOC entry flags (compression of the entry's data). */
export const TocFlag = { none: 0x1, zstd: 0x2, lz4_block: 0x4 } as const;

export const BlobFeature = {
  ALIGNED: 0x1,
  INLINED_FS_META: 0x2,
  CHUNK_INFO_V2: 0x4,
  INLINED_CHUNK_DIGEST: 0x20,
  HAS_TAR_HEADER: 0x1000_0000,
  HAS_TOC: 0x2000_0000,
  CAP_TAR_TOC: 0x4000_0000,
} as const;

export const CCT_MAGIC = 0xb10bb10b;
export const CCT_HEADER_SIZE = 4096;
export const TOC_ENTRY_SIZE = 128;
export const CHUNK_INFO_V1_SIZE = 16;

export interface ChunkInfo {
  compressedOffset: number;
  compressedSize: number;
  uncompressedOffset: number;
  uncompressedSize: number;
}

/**
 * Chunk info v1 (16 bytes, storage/src/meta/chunk_info_v1.rs `{ uncomp_info, comp_info }`):
 * word 0 = uncompressed offset (bits 12–43) and (size − 1) high 4 bits at 8–11, low 20 at 44–63;
 * word 1 = compressed offset (bits 0–39) and (size − 1) high 4 bits at 40–43, low 20 at 44–63.
 */
export function encodeChunkInfoV1(c: ChunkInfo): Buffer {
  const buf = Buffer.alloc(CHUNK_INFO_V1_SIZE);
  const cs = BigInt(c.compressedSize - 1);
  const us = BigInt(c.uncompressedSize - 1);
  const uncomp =
    (BigInt(c.uncompressedOffset) & 0xfff_ffff_f000n) | (((us >> 20n) & 0xfn) << 8n) | ((us & 0xfffffn) << 44n);
  const comp =
    (BigInt(c.compressedOffset) & 0xff_ffff_ffffn) | (((cs >> 20n) & 0xfn) << 40n) | ((cs & 0xfffffn) << 44n);
  buf.writeBigUInt64LE(uncomp, 0);
  buf.writeBigUInt64LE(comp, 8);
  return buf;
}

export function decodeChunkInfoV1(buf: Buffer, at = 0): ChunkInfo {
  const uncomp = buf.readBigUInt64LE(at);
  const comp = buf.readBigUInt64LE(at + 8);
  const cs = (((comp >> 40n) & 0xfn) << 20n) | ((comp >> 44n) & 0xfffffn);
  const us = (((uncomp >> 8n) & 0xfn) << 20n) | ((uncomp >> 44n) & 0xfffffn);
  return {
    compressedOffset: Number(comp & 0xff_ffff_ffffn),
    compressedSize: Number(cs) + 1,
    uncompressedOffset: Number(uncomp & 0xfff_ffff_f000n),
    uncompressedSize: Number(us) + 1,
  };
}

export interface CctHeader {
  features: number;
  ciCompressor: number;
  ciEntries: number;
  ciOffset: number;
  ciCompressedSize: number;
  ciUncompressedSize: number;
}

export function encodeCctHeader(h: CctHeader): Buffer {
  const buf = Buffer.alloc(CCT_HEADER_SIZE);
  buf.writeUInt32LE(CCT_MAGIC, 0);
  buf.writeUInt32LE(h.features, 4);
  buf.writeUInt32LE(h.ciCompressor, 8);
  buf.writeUInt32LE(h.ciEntries, 12);
  buf.writeBigUInt64LE(BigInt(h.ciOffset), 16);
  buf.writeBigUInt64LE(BigInt(h.ciCompressedSize), 24);
  buf.writeBigUInt64LE(BigInt(h.ciUncompressedSize), 32);
  buf.writeUInt32LE(CCT_MAGIC, CCT_HEADER_SIZE - 4);
  return buf;
}

export function decodeCctHeader(buf: Buffer): CctHeader {
  if (buf.readUInt32LE(0) !== CCT_MAGIC || buf.readUInt32LE(CCT_HEADER_SIZE - 4) !== CCT_MAGIC)
    throw new Error('not a blob CCT header');
  return {
    features: buf.readUInt32LE(4),
    ciCompressor: buf.readUInt32LE(8),
    ciEntries: buf.readUInt32LE(12),
    ciOffset: Number(buf.readBigUInt64LE(16)),
    ciCompressedSize: Number(buf.readBigUInt64LE(24)),
    ciUncompressedSize: Number(buf.readBigUInt64LE(32)),
  };
}

export interface BlobTocEntry {
  flags: number;
  name: string;
  uncompressedDigest: Buffer;
  compressedOffset: number;
  compressedSize: number;
  uncompressedSize: number;
}

export function encodeTocEntry(e: BlobTocEntry): Buffer {
  const buf = Buffer.alloc(TOC_ENTRY_SIZE);
  buf.writeUInt32LE(e.flags, 0);
  buf.write(e.name, 8, 16, 'ascii');
  e.uncompressedDigest.copy(buf, 24, 0, 32);
  buf.writeBigUInt64LE(BigInt(e.compressedOffset), 56);
  buf.writeBigUInt64LE(BigInt(e.compressedSize), 64);
  buf.writeBigUInt64LE(BigInt(e.uncompressedSize), 72);
  return buf;
}

export function decodeTocEntry(buf: Buffer, at = 0): BlobTocEntry {
  return {
    flags: buf.readUInt32LE(at),
    name: buf.toString('ascii', at + 8, at + 24).replace(/\0.*$/s, ''),
    uncompressedDigest: Buffer.from(buf.subarray(at + 24, at + 56)),
    compressedOffset: Number(buf.readBigUInt64LE(at + 56)),
    compressedSize: Number(buf.readBigUInt64LE(at + 64)),
    uncompressedSize: Number(buf.readBigUInt64LE(at + 72)),
  };
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export const TAR_HEADER_SIZE = 512;

/**
 * The 512-byte header nydus-image writes after each entry of a blob (tar-rs `Header::new_gnu`:
 * name, size, mtime 0, type '0', GNU magic "ustar  \0", checksum; mode/uid/gid left zero).
 */
export function encodeBlobTarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(TAR_HEADER_SIZE);
  h.write(name, 0, 100, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  h.write(`${'0'.repeat(11)}\0`, 136, 12, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar  \0', 257, 8, 'ascii');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(7, '0')}\0`, 148, 8, 'ascii');
  return h;
}
