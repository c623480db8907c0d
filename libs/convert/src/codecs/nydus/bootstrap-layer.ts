import { createHash } from 'node:crypto';
import { DeflateEngine, pickDeflate } from '../deflate/deflate-engine';
import { END_OF_ARCHIVE, encodeTarHeader, paddingFor } from '../tar/tar-header';
import { FsTree } from './fs-tree';
import { writeRafsV6 } from './rafs-v6';
import { NydusBlob, NydusOptions } from './types';

const file = (name: string, data: Buffer): Buffer[] => [
  encodeTarHeader({ name, type: 'file', mode: 0o444, uid: 0, gid: 0, size: data.length, mtime: 0 }),
  data,
  Buffer.alloc(paddingFor(data.length)),
];

/**
 * The bootstrap layer nydus-snapshotter looks for: gzip(tar{image/, image/image.boot, and for
 * RAFS v6 one image/<blob id>.blob.meta per blob: its chunk-info table and header}).
 * The tar is never joined in memory: its parts are hashed for the diff_id and compressed as one
 * gzip member off the event loop (a 4 GB layer's bootstrap and chunk tables are tens of MB).
 */
export async function bootstrapLayer(
  bootstrap: Buffer,
  blobMetas: { id: string; meta: Buffer }[] = [],
  deflate: DeflateEngine = pickDeflate('auto').engine,
): Promise<{ data: Buffer; diffId: string }> {
  const parts = [
    encodeTarHeader({ name: 'image/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }),
    ...file('image/image.boot', bootstrap),
    ...blobMetas.flatMap((b) => file(`image/${b.id}.blob.meta`, b.meta)),
    END_OF_ARCHIVE,
  ];
  const tarHash = createHash('sha256');
  for (const p of parts) tarHash.update(p);
  return { data: await deflate.gzipMember(parts, 6), diffId: `sha256:${tarHash.digest('hex')}` };
}

/** An image's merged bootstrap (RAFS v6 of the whole tree over its layer blobs), in its layer. */
export async function mergedBootstrapLayer(
  tree: FsTree,
  blobs: NydusBlob[],
  opts: NydusOptions,
): Promise<{ data: Buffer; diffId: string; bootstrapSize: number }> {
  const bootstrap = writeRafsV6(tree, blobs, opts);
  // The cache files are for the blobs the bootstrap maps (those holding chunks).
  const metas = blobs.filter((b) => b.chunks.length > 0).map((b) => ({ id: b.id, meta: b.blobMeta }));
  return { ...(await bootstrapLayer(bootstrap, metas)), bootstrapSize: bootstrap.length };
}
