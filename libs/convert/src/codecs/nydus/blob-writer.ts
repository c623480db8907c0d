import { createHash, Hash } from 'node:crypto';
import { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { readTar } from '../tar/tar-reader';
import { chunkRecycler } from '../tar/layer-stream';
import {
  BlobFeature,
  BlobTocEntry,
  CCT_HEADER_SIZE,
  CHUNK_ALIGN,
  CHUNK_INFO_V1_SIZE,
  Compressor,
  TAR_HEADER_SIZE,
  TocFlag,
  alignUp,
  encodeBlobTarHeader,
  encodeCctHeader,
  encodeChunkInfosV1,
  encodeTocEntry,
} from './blob-format';
import { compress as zstdCompress } from 'zstd-napi';
import { chunkPool } from './chunk-pool';
import { writeRafsV6 } from './rafs-v6';
import { ChunkBatcher, PlacedBatch } from './chunk-batcher';
import { FsTree, entryPath, xattrsFromPax } from './fs-tree';
import { ChunkTable, FileChunks } from './chunk-table';
import { NydusBlob, NydusOptions } from './types';

/** nydus-image's blob id for the blob a per-layer bootstrap is inlined in (it cannot know its own digest). */
export const INLINED_BLOB_ID = 'x'.repeat(64);

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
      for (let done = 0; done < data.length;) {
        const { bytesWritten } = await file.write(data, done, data.length - done, at);
        done += bytesWritten;
        at += bytesWritten;
      }
    },
  };
}

/** Copies a file's data into chunk batches straight from the tar stream's buffers. */
async function copyChunks(
  body: AsyncIterable<Buffer>,
  size: number,
  chunkSize: number,
  batcher: ChunkBatcher<number>,
  firstChunk: number,
): Promise<void> {
  let remaining = size;
  let chunkLeft = 0;
  let slot = firstChunk;
  for await (const piece of body) {
    let buf = piece;
    while (buf.length > 0 && remaining > 0) {
      if (chunkLeft === 0) {
        chunkLeft = Math.min(chunkSize, remaining);
        await batcher.begin(slot++, chunkLeft);
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
export async function writeLayerBlob(
  tar: Readable,
  tree: FsTree,
  index: number,
  sink: BlobSink,
  opts: NydusOptions,
): Promise<NydusBlob> {
  // Chunks already stored in this layer's blob, by digest: a repeated chunk is referenced, not
  // stored again. Per layer, as nydus-image builds each layer: a layer's bootstrap names only its own blob.
  const chunks = new ChunkTable();
  const fileChunks = new FileChunks();
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
  let uncompressedEnd = 0;
  // A batch's new chunks are stored in order; repeated ones point at the copy already stored.
  // The stored bytes of the new chunks between two repeated ones go out as one write.
  const place = ({ chunks: batch, output, done }: PlacedBatch<number>): Promise<void> => {
    const writes: Promise<void>[] = [];
    let runStart = 0;
    let at = 0;
    const flushRun = () => {
      if (at > runStart) writes.push(append(output.subarray(runStart, at)));
    };
    batch.forEach(({ owner, length }, i) => {
      const storedSize = done.stored[i];
      const digest = done.digests.subarray(i * 32, i * 32 + 32);
      const known = chunks.find(digest);
      if (known >= 0) {
        fileChunks.set(owner, known);
        flushRun();
        runStart = at + storedSize;
      } else {
        const uncompressedOffset = alignUp(uncompressedEnd, CHUNK_ALIGN);
        uncompressedEnd = uncompressedOffset + length;
        const chunk = {
          uncompressedOffset,
          uncompressedSize: length,
          compressedOffset: written + (at - runStart),
          compressedSize: storedSize,
        };
        fileChunks.set(owner, chunks.add(chunk, digest));
      }
      at += storedSize;
    });
    flushRun();
    return Promise.all(writes).then(() => undefined);
  };
  const batcher = new ChunkBatcher<number>(chunkPool(), opts.chunkSize, opts, place);
  tree.beginLayer();
  const layerTree = new FsTree(false, tree.inodes);
  // copyChunks copies every piece into a batch before it asks for the next: chunks can be reused.
  for await (const { header, body } of readTar(tar, chunkRecycler(tar))) {
    const xattrs = xattrsFromPax(header.pax);
    const path = entryPath(header.name);
    const node = tree.apply(header, xattrs, undefined, path);
    // The layer's own bootstrap sees the same inodes, chunks and all, as the merged tree.
    layerTree.apply(header, xattrs, node, path);
    if (node === undefined || header.type !== 'file') continue;
    const firstChunk = fileChunks.reserve(Math.ceil(header.size / opts.chunkSize));
    tree.inodes.blobIndex[node] = index;
    tree.inodes.firstChunk[node] = firstChunk;
    await copyChunks(body, header.size, opts.chunkSize, batcher, firstChunk);
  }
  await batcher.flush();
  // Every chunk is placed: the digest index would only sit beside the bootstraps built next.
  chunks.seal();
  fileChunks.seal();
  const compressedDataSize = written;
  const uncompressedSize = alignUp(uncompressedEnd, CHUNK_ALIGN);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest();
  const tocEntries: Buffer[] = [];
  const toc = (e: BlobTocEntry) => tocEntries.push(encodeTocEntry(e));
  // Each entry's data comes right before its tar header ("reverse tar"), unpadded.
  const header = (name: string, size: number) => emit(encodeBlobTarHeader(name, size));

  // image.blob: the chunk data. Its TOC digest covers the blob up to and including this header.
  await header('image.blob', compressedDataSize);
  // nydus-image records the end of the data (where this header starts) as the entry's offset.
  toc({
    flags: TocFlag.none,
    name: 'image.blob',
    uncompressedDigest: blobHash.copy().digest(),
    compressedOffset: compressedDataSize,
    compressedSize: compressedDataSize,
    uncompressedSize,
  });

  // blob.meta: the chunk-info array, its CCT header right after it (readers look for the header
  // at ci_offset + ci_compressed_size); written only when the blob has chunks, as upstream does.
  const features =
    BlobFeature.ALIGNED |
    BlobFeature.INLINED_FS_META |
    (chunks.length ? BlobFeature.INLINED_CHUNK_DIGEST : 0) |
    BlobFeature.HAS_TAR_HEADER |
    BlobFeature.HAS_TOC |
    BlobFeature.CAP_TAR_TOC;
  const cct = encodeChunkInfosV1(chunks);
  const cctOffset = chunks.length ? written : 0;
  const cctHeader = encodeCctHeader({
    features,
    ciCompressor: Compressor.none,
    ciEntries: chunks.length,
    ciOffset: cctOffset,
    ciCompressedSize: cct.length,
    ciUncompressedSize: cct.length,
  });
  if (chunks.length) {
    await emit(cct);
    await emit(cctHeader);
    await header('blob.meta', cct.length + CCT_HEADER_SIZE);
    toc({
      flags: TocFlag.none,
      name: 'blob.meta',
      uncompressedDigest: sha(cct),
      compressedOffset: cctOffset,
      compressedSize: cct.length,
      uncompressedSize: cct.length,
    });
    toc({
      flags: TocFlag.none,
      name: 'blob.meta.header',
      uncompressedDigest: sha(cctHeader),
      compressedOffset: cctOffset + cct.length,
      compressedSize: CCT_HEADER_SIZE,
      uncompressedSize: CCT_HEADER_SIZE,
    });
    const digests = chunks.digests;
    const digestsAt = written;
    await emit(digests);
    await header('blob.digest', digests.length);
    toc({
      flags: TocFlag.none,
      name: 'blob.digest',
      uncompressedDigest: sha(digests),
      compressedOffset: digestsAt,
      compressedSize: digests.length,
      uncompressedSize: digests.length,
    });
  }
  // The cache file shipped in the bootstrap layer pads the array to 4 KiB before the header.
  const blobMeta = Buffer.concat([cct, Buffer.alloc(alignUp(cct.length, CHUNK_ALIGN) - cct.length), cctHeader]);

  // image.boot: this layer's own bootstrap (whiteouts kept as files), zstd-compressed. It names
  // exactly one data blob, itself, by nydus-image's placeholder id: the real id is the digest of
  // the whole blob, which mergers take from the layer digest.
  const self: NydusBlob = {
    index,
    id: INLINED_BLOB_ID,
    size: written,
    compressedDataSize,
    uncompressedSize,
    chunks,
    fileChunks,
    features,
    cctOffset,
    cctSize: cct.length,
    blobMetaDigest: Buffer.alloc(32),
    blobMetaSize: 0,
    blobMeta,
    tocDigest: Buffer.alloc(32),
    tocSize: 0,
  };
  // A layer without chunks has no blob in its bootstrap (nydus-image creates it after the dump).
  const layerBoot = writeRafsV6(layerTree, chunks.length ? [self] : [], opts, false);
  const boot = zstdCompress(layerBoot);
  const bootAt = written;
  await emit(boot);
  await header('image.boot', boot.length);
  toc({
    flags: TocFlag.zstd,
    name: 'image.boot',
    uncompressedDigest: sha(layerBoot),
    compressedOffset: bootAt,
    compressedSize: boot.length,
    uncompressedSize: layerBoot.length,
  });

  // rafs.blob.toc: the entries, then its header; the blob table's TOC size and digest cover both.
  const tocData = Buffer.concat(tocEntries);
  const tocHeader = encodeBlobTarHeader('rafs.blob.toc', tocData.length);
  await emit(tocData);
  await emit(tocHeader);
  // The layer's own view of itself, completed: the real id, size and TOC.
  return {
    ...self,
    id: blobHash.digest('hex'),
    size: written,
    tocDigest: sha(Buffer.concat([tocData, tocHeader])),
    tocSize: tocData.length + TAR_HEADER_SIZE,
  };
}

export const CHUNK_INFO_SIZE = CHUNK_INFO_V1_SIZE;
