import { ascii, bytes, layout, u32, u64 } from '../binary/layout';
import { BLOCK as TAR_BLOCK, GNU_MAGIC, USTAR, checksumOf, writeBytes, writeOctal } from '../tar/ustar';
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
function writeChunkInfoV1(buf: Buffer, at: number, c: ChunkInfo): void {
  const cs = BigInt(c.compressedSize - 1);
  const us = BigInt(c.uncompressedSize - 1);
  const uncomp =
    (BigInt(c.uncompressedOffset) & 0xfff_ffff_f000n) | (((us >> 20n) & 0xfn) << 8n) | ((us & 0xfffffn) << 44n);
  const comp =
    (BigInt(c.compressedOffset) & 0xff_ffff_ffffn) | (((cs >> 20n) & 0xfn) << 40n) | ((cs & 0xfffffn) << 44n);
  buf.writeBigUInt64LE(uncomp, at);
  buf.writeBigUInt64LE(comp, at + 8);
}

/** A blob's chunk infos by chunk-info index. */
export interface ChunkInfos {
  readonly length: number;
  at(i: number): ChunkInfo;
}

/** A blob's chunk-info array in one buffer (a Buffer per 16-byte entry cost ≈ 200 bytes of heap each). */
export function encodeChunkInfosV1(chunks: ChunkInfos): Buffer {
  const buf = Buffer.alloc(chunks.length * CHUNK_INFO_V1_SIZE);
  for (let i = 0; i < chunks.length; i++) writeChunkInfoV1(buf, i * CHUNK_INFO_V1_SIZE, chunks.at(i));
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

/** `BlobCompressionContextHeader`: magic at both ends of its 4 KiB. */
const CctHeaderLayout = layout('BlobCompressionContextHeader', CCT_HEADER_SIZE, {
  magic: u32(0),
  features: u32(4),
  ciCompressor: u32(8),
  ciEntries: u32(12),
  ciOffset: u64(16),
  ciCompressedSize: u64(24),
  ciUncompressedSize: u64(32),
  magic2: u32(CCT_HEADER_SIZE - 4),
});

export function encodeCctHeader(h: CctHeader): Buffer {
  const buf = Buffer.alloc(CCT_HEADER_SIZE);
  CctHeaderLayout.write(buf, 0, { ...h, magic: CCT_MAGIC, magic2: CCT_MAGIC });
  return buf;
}

export function decodeCctHeader(buf: Buffer): CctHeader {
  const { magic, magic2, ...h } = CctHeaderLayout.read(buf);
  if (magic !== CCT_MAGIC || magic2 !== CCT_MAGIC) throw new Error('not a blob CCT header');
  return h;
}

export interface BlobTocEntry {
  flags: number;
  name: string;
  uncompressedDigest: Buffer;
  compressedOffset: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** `TocEntry` of `rafs.blob.toc`. */
const TocEntryLayout = layout('TocEntry', TOC_ENTRY_SIZE, {
  flags: u32(0),
  name: ascii(8, 16),
  uncompressedDigest: bytes(24, 32),
  compressedOffset: u64(56),
  compressedSize: u64(64),
  uncompressedSize: u64(72),
});

export function encodeTocEntry(e: BlobTocEntry): Buffer {
  const buf = Buffer.alloc(TOC_ENTRY_SIZE);
  TocEntryLayout.write(buf, 0, e);
  return buf;
}

export function decodeTocEntry(buf: Buffer, at = 0): BlobTocEntry {
  const e = TocEntryLayout.read(buf, at);
  return { ...e, uncompressedDigest: Buffer.from(e.uncompressedDigest) };
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export const TAR_HEADER_SIZE = TAR_BLOCK;

/**
 * The 512-byte header nydus-image writes after each entry of a blob (tar-rs `Header::new_gnu`:
 * name, size, mtime 0, type '0', GNU magic, checksum; mode/uid/gid left zero).
 */
export function encodeBlobTarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  writeBytes(h, USTAR.name, Buffer.from(name, 'ascii'));
  writeOctal(h, USTAR.size, size);
  writeOctal(h, USTAR.mtime, 0);
  writeBytes(h, USTAR.typeflag, Buffer.from('0'));
  writeBytes(h, USTAR.magic, Buffer.from(GNU_MAGIC, 'latin1'));
  // tar-rs writes the checksum as seven octal digits and a NUL.
  h.write(`${checksumOf(h).toString(8).padStart(7, '0')}\0`, USTAR.checksum.offset, USTAR.checksum.size, 'ascii');
  return h;
}
