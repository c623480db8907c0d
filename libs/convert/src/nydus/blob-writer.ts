import { createHash, Hash } from 'node:crypto';
import { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { readTar } from '../tar/tar-reader';
import { encodeTarHeader, paddingFor } from '../tar/tar-header';
import {
  BlobFeature, CHUNK_ALIGN, CHUNK_INFO_V1_SIZE, ChunkInfo, Compressor, CompressorName, DigesterName, TocFlag,
  alignUp, encodeCctHeader, encodeChunkInfoV1, encodeTocEntry,
} from './blob-format';
import { compress as zstdCompress } from 'zstd-napi';
import { chunkPool } from './chunk-pool';
import { writeRafsV6 } from './rafs-v6';
import { ChunkBatcher, PlacedBatch } from './chunk-batcher';
import { ChunkRef, FsInode, FsTree, xattrsFromPax } from './fs-tree';

export interface NydusOptions {
  /** Power of two, 4 KiB – 16 MiB (default 1 MiB). */
  chunkSize: number;
  compressor: Extract<CompressorName, 'zstd' | 'lz4_block' | 'none'>;
  digester: DigesterName;
  /** Blobs of the image's lower layers (chunks this layer shares with them are stored there). */
  lowerBlobs?: NydusBlob[];
  /** Paths nydusd prefetches at start (`/` = everything), written as the bootstrap's prefetch table. */
  prefetchPatterns?: string[];
}

/** What the bootstrap needs to know about one layer's blob. */
export interface NydusBlob {
  index: number;
  /** sha256 of the whole blob: its digest in the registry and its id in the bootstrap. */
  id: string;
  size: number;
  /** Bytes of compressed chunk data at the blob's start. */
  compressedDataSize: number;
  /** End of the 4 KiB-aligned uncompressed chunk space. */
  uncompressedSize: number;
  chunks: ChunkInfo[];
  chunkDigests: Buffer[];
  cctOffset: number;
  cctSize: number;
  blobMetaDigest: Buffer;
  /** The CCT padded to 4 KiB plus its header: also shipped as `image/<id>.blob.meta` in the bootstrap layer. */
  blobMeta: Buffer;
  tocDigest: Buffer;
  tocSize: number;
}

/** Chunks already stored by this image, by digest: a repeated chunk is referenced, not stored again. */
export type ChunkDictionary = Map<string, ChunkRef>;

/** Where a blob's bytes go, in order. */
export interface BlobSink {
  /** Appends `data`; settles once `data` has been consumed and its memory may be reused. */
  write(data: Uint8Array): Promise<void>;
}

/** Appends to an open file with positional writes: each write owns its range, so they may overlap. */
export function fileSink(file: FileHandle): BlobSink {
  let end = 0;
  return {
    async write(data) {
      let at = end;
      end += data.length;
      for (let done = 0; done < data.length; ) {
        const { bytesWritten } = await file.write(data, done, data.length - done, at);
        done += bytesWritten;
        at += bytesWritten;
      }
    },
  };
}

interface ChunkOwner {
  node: FsInode;
  slot: number;
}

/** Copies a file's data into chunk batches straight from the tar stream's buffers. */
async function copyChunks(body: Readable, size: number, chunkSize: number, batcher: ChunkBatcher<ChunkOwner>, node: FsInode): Promise<void> {
  let remaining = size;
  let chunkLeft = 0;
  let slot = 0;
  for await (const piece of body) {
    let buf = piece as Buffer;
    while (buf.length > 0 && remaining > 0) {
      if (chunkLeft === 0) {
        chunkLeft = Math.min(chunkSize, remaining);
        await batcher.begin({ node, slot: slot++ }, chunkLeft);
      }
      const n = Math.min(chunkLeft, buf.length);
      batcher.write(buf.subarray(0, n));
      chunkLeft -= n;
      remaining -= n;
      buf = buf.subarray(n);
    }
  }
  if (remaining !== 0) throw new Error(`tar entry ends ${remaining} bytes early: truncated layer`);
}

/**
 * Streams one layer into a Nydus data blob (RAFS v6 native layout): files split into chunks,
 * each digested and compressed, stored once per image; then the chunk-info table (CCT), the
 * chunk digests and the blob TOC, each behind a tar header as nydus-image writes them. The
 * layer's entries are applied to `tree` on the way.
 */
export async function writeLayerBlob(tar: Readable, tree: FsTree, index: number, dict: ChunkDictionary, sink: BlobSink, opts: NydusOptions): Promise<NydusBlob> {
  const blobHash: Hash = createHash('sha256');
  let written = 0;
  const append = (buf: Uint8Array): Promise<void> => {
    blobHash.update(buf);
    written += buf.length;
    return sink.write(buf);
  };
  const emit = async (buf: Buffer) => {
    if (buf.length > 0) await append(buf);
  };
  const chunks: ChunkInfo[] = [];
  const chunkDigests: Buffer[] = [];
  let uncompressedEnd = 0;
  // A batch's new chunks are stored in order; repeated ones point at the copy already stored.
  // The stored bytes of the new chunks between two repeated ones go out as one write.
  const place = ({ chunks: batch, output, done }: PlacedBatch<ChunkOwner>): Promise<void> => {
    const writes: Promise<void>[] = [];
    let runStart = 0;
    let at = 0;
    const flushRun = () => {
      if (at > runStart) writes.push(append(output.subarray(runStart, at)));
    };
    batch.forEach(({ owner, length }, i) => {
      const storedSize = done.stored[i];
      const d = Buffer.from(done.digests.buffer, done.digests.byteOffset + i * 32, 32);
      const key = d.toString('hex');
      const known = dict.get(key);
      if (known) {
        owner.node.chunks[owner.slot] = known;
        flushRun();
        runStart = at + storedSize;
      } else {
        const info: ChunkInfo = { compressedOffset: written + (at - runStart), compressedSize: storedSize, uncompressedOffset: alignUp(uncompressedEnd, CHUNK_ALIGN), uncompressedSize: length };
        uncompressedEnd = info.uncompressedOffset + length;
        const ref: ChunkRef = { blobIndex: index, ciIndex: chunks.length, digest: d, ...info };
        chunks.push(info);
        chunkDigests.push(d);
        dict.set(key, ref);
        owner.node.chunks[owner.slot] = ref;
      }
      at += storedSize;
    });
    flushRun();
    return Promise.all(writes).then(() => undefined);
  };
  const batcher = new ChunkBatcher<ChunkOwner>(chunkPool(), opts.chunkSize, opts, place);
  tree.beginLayer();
  const layerTree = new FsTree(false);
  for await (const { header, body } of readTar(tar)) {
    const xattrs = xattrsFromPax(header.pax);
    const node = tree.apply(header, xattrs);
    const raw = layerTree.apply(header, new Map(xattrs));
    if (!node) {
      body.resume();
      continue;
    }
    node.chunks = [];
    // The layer's own bootstrap sees the same chunks as the merged tree.
    if (raw) raw.chunks = node.chunks;
    await copyChunks(body, header.size, opts.chunkSize, batcher, node);
  }
  await batcher.flush();
  const compressedDataSize = written;
  const tocEntries: Buffer[] = [];
  // Each entry's data comes before its tar header ("reverse tar"), padded to 512 bytes.
  const entry = async (name: string, data: Buffer, flags: number, uncompressed: Buffer = data): Promise<{ offset: number }> => {
    const offset = written;
    await emit(data);
    await emit(Buffer.alloc(paddingFor(data.length)));
    await emit(encodeTarHeader({ name, type: 'file', mode: 0o444, uid: 0, gid: 0, size: data.length, mtime: 0 }));
    if (name !== 'rafs.blob.toc') {
      tocEntries.push(encodeTocEntry({ flags, name, uncompressedDigest: createHash('sha256').update(uncompressed).digest(), compressedOffset: offset, compressedSize: data.length, uncompressedSize: uncompressed.length }));
    }
    return { offset };
  };
  await emit(Buffer.alloc(paddingFor(compressedDataSize)));
  await emit(encodeTarHeader({ name: 'image.blob', type: 'file', mode: 0o444, uid: 0, gid: 0, size: compressedDataSize, mtime: 0 }));
  tocEntries.push(encodeTocEntry({ flags: TocFlag[opts.compressor], name: 'image.blob', uncompressedDigest: Buffer.alloc(32), compressedOffset: 0, compressedSize: compressedDataSize, uncompressedSize: uncompressedEnd }));
  const cct = Buffer.concat(chunks.map(encodeChunkInfoV1));
  const cctPadded = Buffer.concat([cct, Buffer.alloc(alignUp(cct.length, CHUNK_ALIGN) - cct.length)]);
  const cctOffset = written;
  const features = BlobFeature.ALIGNED | BlobFeature.INLINED_FS_META | BlobFeature.INLINED_CHUNK_DIGEST | BlobFeature.HAS_TAR_HEADER | BlobFeature.HAS_TOC | BlobFeature.CAP_TAR_TOC;
  const cctHeader = encodeCctHeader({ features, ciCompressor: Compressor.none, ciEntries: chunks.length, ciOffset: cctOffset, ciCompressedSize: cct.length, ciUncompressedSize: cct.length });
  const meta = Buffer.concat([cctPadded, cctHeader]);
  await entry('blob.meta', meta, TocFlag.none);
  await entry('blob.digest', Buffer.concat(chunkDigests), TocFlag.none);
  // This layer's own bootstrap (whiteouts kept as files), zstd-compressed, as nydus-image
  // inlines it. It cannot name its own blob (the id is the digest of the whole blob), so that
  // slot's id stays empty: mergers name it by the layer digest.
  const self: NydusBlob = {
    index, id: '', size: 0, compressedDataSize, uncompressedSize: alignUp(uncompressedEnd, CHUNK_ALIGN), chunks, chunkDigests,
    cctOffset, cctSize: cct.length, blobMetaDigest: createHash('sha256').update(meta).digest(), blobMeta: meta, tocDigest: Buffer.alloc(32), tocSize: 0,
  };
  const layerBoot = writeRafsV6(layerTree, [...(opts.lowerBlobs ?? []), self], opts);
  await entry('image.boot', zstdCompress(layerBoot), TocFlag.zstd, layerBoot);
  const toc = Buffer.concat(tocEntries);
  await entry('rafs.blob.toc', toc, TocFlag.none);
  return {
    index,
    id: blobHash.digest('hex'),
    size: written,
    compressedDataSize,
    uncompressedSize: alignUp(uncompressedEnd, CHUNK_ALIGN),
    chunks,
    chunkDigests,
    cctOffset,
    cctSize: cct.length,
    blobMetaDigest: createHash('sha256').update(meta).digest(),
    blobMeta: meta,
    tocDigest: createHash('sha256').update(toc).digest(),
    tocSize: toc.length,
  };
}

export const CHUNK_INFO_SIZE = CHUNK_INFO_V1_SIZE;
