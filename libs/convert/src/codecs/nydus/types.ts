import { CompressorName, DigesterName } from './blob-format';
import { ChunkTable, FileChunks } from './chunk-table';

export interface NydusOptions {
  /** Power of two, 4 KiB – 16 MiB (default 1 MiB). */
  chunkSize: number;
  compressor: Extract<CompressorName, 'zstd' | 'lz4_block' | 'none'>;
  digester: DigesterName;
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
  /** The blob's chunks in chunk-info order, with their digests. */
  chunks: ChunkTable;
  /** Where each file of the layer finds its chunks (`InodeTable.firstChunk` onwards). */
  fileChunks: FileChunks;
  /** `BlobFeatures` of the blob as written (a merged bootstrap clears INLINED_FS_META). */
  features: number;
  cctOffset: number;
  cctSize: number;
  /** Blob table `blob_meta_digest`/`blob_meta_size`: zero for inlined meta, as nydus-image writes. */
  blobMetaDigest: Buffer;
  blobMetaSize: number;
  /** The CCT padded to 4 KiB plus its header: shipped as `image/<id>.blob.meta` in the bootstrap layer. */
  blobMeta: Buffer;
  /** sha256 and size of the TOC entries plus their tar header. */
  tocDigest: Buffer;
  tocSize: number;
}
