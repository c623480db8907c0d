import { EXT_SUPER_OFFSET, RafsV6Blob, RafsV6SuperBlockExt } from './rafs-v6-layout';
import { GNU_MAGIC, USTAR, readNumber, readString } from '../tar/ustar';
import { createHash } from 'node:crypto';
import { uncompressSync } from 'lz4-napi';
import { decompress as zstdDecompress } from 'zstd-napi';
import {
  CCT_HEADER_SIZE,
  CHUNK_INFO_V1_SIZE,
  ChunkInfo,
  Compressor,
  TOC_ENTRY_SIZE,
  BlobTocEntry,
  TocFlag,
  decodeCctHeader,
  decodeChunkInfoV1,
  decodeTocEntry,
  alignUp,
} from './blob-format';

export interface ParsedBlob {
  /** How chunks are compressed (from the image.blob TOC entry). */
  compressor: 'zstd' | 'lz4_block' | 'none';
  toc: BlobTocEntry[];
  chunks: ChunkInfo[];
  digests: Buffer[];
}

const sizeOfHeader = (h: Buffer) => readNumber(h, USTAR.size) ?? NaN;
const nameOfHeader = (h: Buffer) => readString(h, USTAR.name);

const COMPRESSORS: Record<number, ParsedBlob['compressor']> = {
  [Compressor.none]: 'none',
  [Compressor.lz4_block]: 'lz4_block',
  [Compressor.zstd]: 'zstd',
};

/** The inlined per-layer bootstrap's blob table says how the chunks are compressed (the TOC marks image.blob raw). */
function compressorOf(blob: Buffer, toc: BlobTocEntry[]): ParsedBlob['compressor'] {
  const e = toc.find((t) => t.name === 'image.boot');
  if (!e) throw new Error('blob has no inlined bootstrap to tell its chunk compressor; pass it');
  const stored = blob.subarray(e.compressedOffset, e.compressedOffset + e.compressedSize);
  const boot = e.flags & TocFlag.zstd ? zstdDecompress(stored) : stored;
  const { blobTableOffset } = RafsV6SuperBlockExt.read(boot, EXT_SUPER_OFFSET);
  const { compressionAlgo } = RafsV6Blob.read(boot, blobTableOffset);
  const algo = COMPRESSORS[compressionAlgo];
  if (!algo) throw new Error(`unknown chunk compressor ${compressionAlgo}`);
  return algo;
}

/** Reads a Nydus blob from its end: TOC → chunk-info array (CCT) and its header → chunk digests. */
export function parseBlob(blob: Buffer, compressor?: ParsedBlob['compressor']): ParsedBlob {
  const header = blob.subarray(blob.length - 512);
  if (nameOfHeader(header) !== 'rafs.blob.toc') throw new Error('blob does not end with a rafs.blob.toc entry');
  if (readString(header, USTAR.magic) !== GNU_MAGIC.replace(/\0$/, ''))
    throw new Error('blob TOC header is not a GNU tar header');
  const tocSize = sizeOfHeader(header);
  const tocStart = blob.length - 512 - tocSize;
  const tocData = blob.subarray(tocStart, tocStart + tocSize);
  const toc = Array.from({ length: tocSize / TOC_ENTRY_SIZE }, (_, i) => decodeTocEntry(tocData, i * TOC_ENTRY_SIZE));
  const meta = toc.find((e) => e.name === 'blob.meta');
  let chunks: ChunkInfo[] = [];
  if (meta) {
    const ci = blob.subarray(meta.compressedOffset, meta.compressedOffset + meta.compressedSize);
    if (!createHash('sha256').update(ci).digest().equals(meta.uncompressedDigest))
      throw new Error('blob.meta does not match its TOC digest');
    const cct = decodeCctHeader(
      blob.subarray(
        meta.compressedOffset + meta.compressedSize,
        meta.compressedOffset + meta.compressedSize + CCT_HEADER_SIZE,
      ),
    );
    if (cct.ciOffset !== meta.compressedOffset || cct.ciCompressedSize !== meta.compressedSize)
      throw new Error('CCT header does not describe the chunk-info array before it');
    chunks = Array.from({ length: cct.ciEntries }, (_, i) => decodeChunkInfoV1(ci, i * CHUNK_INFO_V1_SIZE));
  }
  const d = toc.find((e) => e.name === 'blob.digest');
  const digestData = d ? blob.subarray(d.compressedOffset, d.compressedOffset + d.compressedSize) : Buffer.alloc(0);
  const digests = Array.from({ length: digestData.length / 32 }, (_, i) =>
    Buffer.from(digestData.subarray(i * 32, i * 32 + 32)),
  );
  return { compressor: compressor ?? (chunks.length ? compressorOf(blob, toc) : 'none'), toc, chunks, digests };
}

/** The uncompressed form of a chunk (stored raw when compression did not help). */
export function readChunk(blob: Buffer, c: ChunkInfo, compressor: ParsedBlob['compressor'] = 'zstd'): Buffer {
  const stored = blob.subarray(c.compressedOffset, c.compressedOffset + c.compressedSize);
  if (c.compressedSize === c.uncompressedSize || compressor === 'none') return stored;
  if (compressor === 'zstd') return zstdDecompress(stored);
  const sized = Buffer.alloc(4 + stored.length);
  sized.writeUInt32LE(c.uncompressedSize, 0);
  stored.copy(sized, 4);
  return uncompressSync(sized);
}

/** Every chunk placed at its uncompressed offset: the raw device an EROFS reader maps blob chunks to. */
export function expandBlob(blob: Buffer, knownCompressor?: ParsedBlob['compressor']): Buffer {
  const { chunks, compressor } = parseBlob(blob, knownCompressor);
  const end = chunks.reduce((m, c) => Math.max(m, alignUp(c.uncompressedOffset + c.uncompressedSize, 4096)), 0);
  const device = Buffer.alloc(end);
  for (const c of chunks) readChunk(blob, c, compressor).copy(device, c.uncompressedOffset);
  return device;
}
