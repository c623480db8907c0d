/**
 * The load-time rules upstream Nydus applies to a RAFS v6 bootstrap and to a data blob, written
 * from dragonflyoss/nydus (34e6071e) independently of the project's encoders: its own offsets,
 * masks and constants, so that a mistake shared by the project's writer and reader is caught.
 *
 * - rafs/src/metadata/layout/v6.rs: RafsV6SuperBlock::validate, RafsV6SuperBlockExt::validate,
 *   RafsV6Device::validate, RafsV6Blob::validate
 * - storage/src/meta/toc.rs: parse_toc_header (GNU header, size, name; digest over entries + header)
 * - storage/src/meta/mod.rs: read_metadata / validate_header (CCT header at ci_offset + ci_compressed_size)
 * - storage/src/meta/chunk_info_v1.rs: BlobChunkInfoV1Ondisk { uncomp_info, comp_info } and validate
 * - builder/src/merge.rs: at most one associated data blob per layer bootstrap
 */
import { createHash } from 'node:crypto';
import { decompress as zstdDecompress } from 'zstd-napi';

const SB = 1024;
const EXT = 1152;
const EROFS_MAGIC = 0xe0f5e1e2;
const BLOCK_4K = 4096n;
const MAX_CHUNK_SIZE = 16n << 20n;
const MAX_CHUNKS_PER_BLOB = 1 << 24;
const RAFS_V6_BLOB_SIZE = 256;
const CHUNK_INFO_RECORD = 80; // RafsV5ChunkInfo, the bootstrap's chunk table
const CI_V1_SIZE = 16;
const CCT_HEADER = 4096;
const CCT_MAGIC = 0xb10bb10b;
const TOC_ENTRY = 128;
const TAR_BLOCK = 512;

const Flag = { NONE: 0x1n, LZ4: 0x2n, GZIP: 0x40n, ZSTD: 0x80n, BLAKE3: 0x4n, SHA256: 0x8n };
const Feature = { ALIGNED: 0x1, INLINED_FS_META: 0x2, CHUNK_INFO_V2: 0x4, ZRAN: 0x8, BATCH: 0x80, ENCRYPTED: 0x100 };

const popcount = (n: bigint) => n.toString(2).replace(/0/g, '').length;
const pow2 = (n: bigint) => n > 0n && (n & (n - 1n)) === 0n;
const isUtf8 = (b: Buffer) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

export interface UpstreamBlobEntry {
  index: number;
  id: string;
  chunkSize: number;
  chunkCount: number;
  compression: number;
  features: number;
  compressedSize: bigint;
  uncompressedSize: bigint;
  tocSize: number;
  ciCompressor: number;
  ciOffset: bigint;
  ciCompressedSize: bigint;
  ciUncompressedSize: bigint;
  tocDigest: string;
}

export interface UpstreamBootstrap {
  violations: string[];
  blobs: UpstreamBlobEntry[];
  devices: { id: string; blocks: number; mappedBlkaddr: number }[];
  chunkTable: { offset: bigint; size: bigint };
}

/** Upstream's checks of a RAFS v6 bootstrap; `merged`: also what `nydus-image merge` guarantees. */
export function checkBootstrap(boot: Buffer, opts: { merged?: boolean; layer?: boolean } = {}): UpstreamBootstrap {
  const v: string[] = [];
  const size = BigInt(boot.length);
  // RafsV6SuperBlock::validate
  const blkszbits = boot.readUInt8(SB + 12);
  const blockSize = blkszbits === 9 ? 512n : BLOCK_4K;
  if (size < BLOCK_4K) v.push('sb: metadata smaller than 4 KiB');
  if (size % blockSize !== 0n) v.push('sb: bootstrap size is not block aligned');
  if (BigInt(boot.readUInt32LE(SB + 40)) * blockSize > size) v.push('sb: meta block address past the end');
  if (boot.readUInt32LE(SB) !== EROFS_MAGIC) v.push('sb: bad EROFS magic');
  if (boot.readUInt32LE(SB + 4) !== 0) v.push('sb: checksum must be 0');
  if (blkszbits !== 12 && blkszbits !== 9) v.push('sb: block size bits');
  if (boot.readUInt8(SB + 13) !== 0) v.push('sb: extended slots');
  if (boot.readBigUInt64LE(SB + 16) === 0n) v.push('sb: zero inodes');
  if (boot.readUInt16LE(SB + 84) !== 0) v.push('sb: union field');
  const extraDevices = boot.readUInt16LE(SB + 86);
  const devtSlotoff = boot.readUInt16LE(SB + 88);

  // RafsV6SuperBlockExt::validate
  const flags = boot.readBigUInt64LE(EXT);
  if (popcount(flags & (Flag.NONE | Flag.LZ4 | Flag.GZIP | Flag.ZSTD)) !== 1) v.push('ext: compression flags');
  if (popcount(flags & (Flag.BLAKE3 | Flag.SHA256)) !== 1) v.push('ext: digest flags');
  const chunkSize = BigInt(boot.readUInt32LE(EXT + 20));
  if (!pow2(chunkSize) || chunkSize < BLOCK_4K || chunkSize > MAX_CHUNK_SIZE) v.push('ext: chunk size');
  const devslotEnd = BigInt(devtSlotoff * 128 + extraDevices * 128);
  const blobOffset = boot.readBigUInt64LE(EXT + 8);
  const blobSize = BigInt(boot.readUInt32LE(EXT + 16));
  if (
    blobOffset % BLOCK_4K !== 0n ||
    blobOffset < BLOCK_4K ||
    blobOffset < devslotEnd ||
    blobSize % BigInt(RAFS_V6_BLOB_SIZE) !== 0n ||
    blobOffset + blobSize > size
  ) {
    v.push(`ext: invalid blob table offset 0x${blobOffset.toString(16)}/size 0x${blobSize.toString(16)}`);
  }
  const chunkOffset = boot.readBigUInt64LE(EXT + 24);
  const chunkTblSize = boot.readBigUInt64LE(EXT + 32);
  if (chunkTblSize > 0n) {
    if (
      chunkOffset < BLOCK_4K ||
      chunkOffset % BLOCK_4K !== 0n ||
      chunkOffset < devslotEnd ||
      chunkTblSize % BigInt(CHUNK_INFO_RECORD) !== 0n ||
      chunkOffset + chunkTblSize > size
    ) {
      v.push(`ext: invalid chunk table offset 0x${chunkOffset.toString(16)}/size 0x${chunkTblSize.toString(16)}`);
    }
    if (chunkOffset < blobOffset + blobSize && blobOffset < chunkOffset + chunkTblSize)
      v.push('ext: blob table intersects the chunk table');
  }
  const pfOffset = boot.readBigUInt64LE(EXT + 40);
  const pfSize = BigInt(boot.readUInt32LE(EXT + 48));
  if (pfSize > 0n && pfOffset !== 0n) {
    if (pfOffset < BLOCK_4K || pfSize % 4n !== 0n || pfOffset < devslotEnd || pfOffset + pfSize > size)
      v.push('ext: invalid prefetch table');
    if (pfOffset < blobOffset + blobSize && blobOffset < pfOffset + pfSize)
      v.push('ext: blob table intersects the prefetch table');
  }

  // Device slots (RafsV6Device::validate) and blob table (RafsV6Blob::validate).
  const devices = Array.from({ length: extraDevices }, (_, i) => {
    const at = devtSlotoff * 128 + i * 128;
    const id = boot.subarray(at, at + 64);
    const blocks = boot.readUInt32LE(at + 64);
    if (!isUtf8(id)) v.push(`device ${i}: blob id is not UTF-8`);
    if (blocks === 0) v.push(`device ${i}: invalid blocks 0`);
    return { id: id.toString('latin1').replace(/\0+$/, ''), blocks, mappedBlkaddr: boot.readUInt32LE(at + 68) };
  });
  const blobs: UpstreamBlobEntry[] = [];
  for (let i = 0; i < Number(blobSize) / RAFS_V6_BLOB_SIZE; i++) {
    const at = Number(blobOffset) + i * RAFS_V6_BLOB_SIZE;
    const e: UpstreamBlobEntry = {
      index: boot.readUInt32LE(at + 64),
      id: boot.toString('latin1', at, at + 64).replace(/\0+$/, ''),
      chunkSize: boot.readUInt32LE(at + 68),
      chunkCount: boot.readUInt32LE(at + 72),
      compression: boot.readUInt32LE(at + 76),
      features: boot.readUInt32LE(at + 84),
      compressedSize: boot.readBigUInt64LE(at + 88),
      uncompressedSize: boot.readBigUInt64LE(at + 96),
      tocSize: boot.readUInt32LE(at + 104),
      ciCompressor: boot.readUInt32LE(at + 108),
      ciOffset: boot.readBigUInt64LE(at + 112),
      ciCompressedSize: boot.readBigUInt64LE(at + 120),
      ciUncompressedSize: boot.readBigUInt64LE(at + 128),
      tocDigest: boot.subarray(at + 136, at + 168).toString('hex'),
    };
    blobs.push(e);
    const digestAlgo = boot.readUInt32LE(at + 80);
    if (!isUtf8(boot.subarray(at, at + 64))) v.push(`blob ${i}: blob id is not UTF-8`);
    if (e.index !== i) v.push(`blob ${i}: blob_index ${e.index}`);
    if (
      !pow2(BigInt(e.chunkSize)) ||
      BigInt(e.chunkSize) < BLOCK_4K ||
      BigInt(e.chunkSize) > MAX_CHUNK_SIZE ||
      BigInt(e.chunkSize) !== chunkSize
    )
      v.push(`blob ${i}: chunk size`);
    if (e.chunkCount > MAX_CHUNKS_PER_BLOB) v.push(`blob ${i}: chunk count`);
    if (e.compression > 3 || e.ciCompressor > 3 || digestAlgo > 1) v.push(`blob ${i}: algorithms`);
    if (!(e.features & Feature.ALIGNED)) v.push(`blob ${i}: ALIGNED feature missing`);
    if (e.ciCompressedSize > e.ciUncompressedSize) v.push(`blob ${i}: ci compressed size above uncompressed`);
    if (e.features & (Feature.CHUNK_INFO_V2 | Feature.ZRAN | Feature.BATCH | Feature.ENCRYPTED))
      v.push(`blob ${i}: chunk-info v2 features are not expected here`);
    else if (e.ciUncompressedSize !== BigInt(e.chunkCount * CI_V1_SIZE))
      v.push(`blob ${i}: ci_uncompressed_size ${e.ciUncompressedSize} for ${e.chunkCount} chunks`);
    const d = devices[i];
    if (!d) v.push(`blob ${i}: no device slot`);
    else {
      if (d.id !== e.id) v.push(`blob ${i}: device slot names ${d.id}`);
      if (BigInt(d.blocks) * BLOCK_4K !== e.uncompressedSize)
        v.push(`blob ${i}: device blocks ${d.blocks} for ${e.uncompressedSize} bytes`);
    }
    if (opts.merged && e.features & Feature.INLINED_FS_META)
      v.push(`blob ${i}: INLINED_FS_META set in a merged bootstrap (nydusd would rename the blob after the bootstrap)`);
  }
  if (devices.length !== blobs.length) v.push(`${devices.length} device slots for ${blobs.length} blobs`);
  // What builder/src/core/v6.rs writes (not a load rule): s_blocks is the devices' block count and,
  // in merged bootstraps of nydus-image 2.2+, each device is mapped at the next 2 MiB boundary
  // past the bootstrap (older layer bootstraps, like upstream's inline-meta vector, write 0).
  const SEGMENT = 2n << 20n;
  let next = ((size + SEGMENT - 1n) / SEGMENT) * SEGMENT;
  for (const [i, d] of opts.merged ? devices.entries() : []) {
    if (BigInt(d.mappedBlkaddr) * BLOCK_4K !== next)
      v.push(`device ${i}: mapped_blkaddr ${d.mappedBlkaddr}, nydus-image writes ${next / BLOCK_4K}`);
    next = ((BigInt(d.mappedBlkaddr + d.blocks) * BLOCK_4K + SEGMENT - 1n) / SEGMENT) * SEGMENT;
  }
  const deviceBlocks = devices.reduce((n, d) => n + d.blocks, 0);
  if (boot.readUInt32LE(SB + 36) !== deviceBlocks)
    v.push(`sb: s_blocks ${boot.readUInt32LE(SB + 36)}, nydus-image writes the devices' ${deviceBlocks}`);
  // The chunk table's records name a blob of the table.
  for (
    let at = Number(chunkOffset);
    chunkTblSize > 0n && at < Number(chunkOffset + chunkTblSize);
    at += CHUNK_INFO_RECORD
  ) {
    if (boot.readUInt32LE(at + 32) >= blobs.length)
      v.push(`chunk record at 0x${at.toString(16)} names blob ${boot.readUInt32LE(at + 32)}`);
  }
  // builder/src/merge.rs: a layer's bootstrap has at most one associated data blob.
  if (opts.layer && blobs.length > 1)
    v.push(`layer bootstrap: ${blobs.length} associated data blobs (merge refuses "multiple associated data blobs")`);
  return { violations: v, blobs, devices, chunkTable: { offset: chunkOffset, size: chunkTblSize } };
}

export interface UpstreamChunk {
  compressedOffset: bigint;
  compressedSize: number;
  uncompressedOffset: bigint;
  uncompressedSize: number;
}

/** chunk_info_v1.rs: word 0 uncomp_info, word 1 comp_info. */
export function decodeUpstreamChunk(b: Buffer, at: number): UpstreamChunk {
  const uncomp = b.readBigUInt64LE(at);
  const comp = b.readBigUInt64LE(at + 8);
  return {
    compressedOffset: comp & 0xff_ffff_ffffn,
    compressedSize: Number((comp >> 44n) | ((comp & 0xf0000000000n) >> 20n)) + 1,
    uncompressedOffset: uncomp & 0xfff_ffff_f000n,
    uncompressedSize: Number(((uncomp & 0xf00n) << 12n) | (uncomp >> 44n)) + 1,
  };
}

export interface UpstreamTocEntry {
  flags: number;
  name: string;
  digest: string;
  offset: number;
  size: number;
  uncompressedSize: number;
}

export interface UpstreamBlob {
  violations: string[];
  toc: UpstreamTocEntry[];
  tocSize: number;
  tocDigest: string;
  chunks: UpstreamChunk[];
  /** The inlined per-layer bootstrap, decompressed, when the blob has one. */
  layerBootstrap?: Buffer;
}

/** Upstream's checks of a data blob against its blob-table entry. */
export function checkBlob(blob: Buffer, entry: UpstreamBlobEntry): UpstreamBlob {
  const v: string[] = [];
  // toc.rs parse_toc_header: the last 512 bytes are a GNU header of a regular file "rafs.blob.toc".
  const h = blob.subarray(blob.length - TAR_BLOCK);
  const typeflag = h[156];
  if (typeflag !== 0x30 && typeflag !== 0) v.push('toc: tar entry is not a regular file');
  const entrySize = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
  if (!(entrySize <= blob.length - TAR_BLOCK)) v.push('toc: entry size larger than the blob');
  if (h.toString('latin1', 0, 100).replace(/\0.*$/s, '') !== 'rafs.blob.toc')
    v.push('toc: header name is not rafs.blob.toc');
  if (h.toString('latin1', 257, 263) !== 'ustar ' || h.toString('latin1', 263, 265) !== ' \0')
    v.push('toc: invalid GNU tar header for ToC');
  const tocBytes = blob.subarray(blob.length - TAR_BLOCK - entrySize);
  const tocDigest = createHash('sha256').update(tocBytes).digest('hex');
  const tocSize = entrySize + TAR_BLOCK;
  if (entry.tocSize !== tocSize)
    v.push(`toc: blob table says size ${entry.tocSize}, the ToC with its header is ${tocSize}`);
  if (entry.tocDigest !== tocDigest) v.push('toc: blob table digest is not sha256(entries + header)');
  const toc: UpstreamTocEntry[] = [];
  for (let at = 0; at + TOC_ENTRY <= entrySize; at += TOC_ENTRY) {
    const e = tocBytes.subarray(at, at + TOC_ENTRY);
    toc.push({
      flags: e.readUInt32LE(0),
      name: e.toString('latin1', 8, 24).replace(/\0.*$/s, ''),
      digest: e.subarray(24, 56).toString('hex'),
      offset: Number(e.readBigUInt64LE(56)),
      size: Number(e.readBigUInt64LE(64)),
      uncompressedSize: Number(e.readBigUInt64LE(72)),
    });
  }
  // Entries other than the raw chunk data extract to what their digest says (toc.rs extract).
  let layerBootstrap: Buffer | undefined;
  for (const e of toc) {
    if (e.name === 'image.blob') {
      if (e.flags !== 0x1) v.push('toc: image.blob must be marked uncompressed');
      continue;
    }
    const stored = blob.subarray(e.offset, e.offset + e.size);
    const data = e.flags & 0x2 ? zstdDecompress(stored) : stored;
    if (data.length !== e.uncompressedSize)
      v.push(`toc: ${e.name} extracts to ${data.length} bytes, entry says ${e.uncompressedSize}`);
    if (createHash('sha256').update(data).digest('hex') !== e.digest)
      v.push(`toc: ${e.name} does not match its digest`);
    if (e.name === 'image.boot') layerBootstrap = data;
  }
  // meta/mod.rs read_metadata/validate_header: the CCT header follows the chunk-info array.
  const chunks: UpstreamChunk[] = [];
  if (entry.chunkCount > 0) {
    const hAt = Number(entry.ciOffset + entry.ciCompressedSize);
    const hdr = blob.subarray(hAt, hAt + CCT_HEADER);
    if (
      hdr.length !== CCT_HEADER ||
      hdr.readUInt32LE(0) !== CCT_MAGIC ||
      hdr.readUInt32LE(CCT_HEADER - 4) !== CCT_MAGIC
    )
      v.push(`cct: no CCT header magic at ci_offset + ci_compressed_size (0x${hAt.toString(16)})`);
    else {
      if (hdr.readUInt32LE(12) !== entry.chunkCount) v.push('cct: ci_entries differs from the blob table');
      if (hdr.readUInt32LE(8) !== entry.ciCompressor) v.push('cct: ci_compressor differs from the blob table');
      if (
        hdr.readBigUInt64LE(16) !== entry.ciOffset ||
        hdr.readBigUInt64LE(24) !== entry.ciCompressedSize ||
        hdr.readBigUInt64LE(32) !== entry.ciUncompressedSize
      )
        v.push('cct: offsets/sizes differ from the blob table');
    }
    if (entry.ciCompressor !== 0) v.push('cct: compressed chunk-info arrays are not checked here');
    const ci = blob.subarray(Number(entry.ciOffset), Number(entry.ciOffset + entry.ciUncompressedSize));
    for (let i = 0; i < entry.chunkCount; i++) {
      const c = decodeUpstreamChunk(ci, i * CI_V1_SIZE);
      chunks.push(c);
      // chunk_info_v1.rs validate: inside the blob's compressed and uncompressed sizes.
      if (
        c.compressedOffset + BigInt(c.compressedSize) > entry.compressedSize ||
        c.uncompressedOffset + BigInt(c.uncompressedSize) > entry.uncompressedSize
      )
        v.push(`chunk ${i}: outside the blob`);
      if (c.uncompressedOffset % BLOCK_4K !== 0n) v.push(`chunk ${i}: uncompressed offset not 4 KiB aligned`);
    }
  }
  return { violations: v, toc, tocSize, tocDigest, chunks, layerBootstrap };
}
