import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { END_OF_ARCHIVE, encodeTarHeader, paddingFor } from '../tar/tar-header';

const file = (name: string, data: Buffer): Buffer[] => [
  encodeTarHeader({ name, type: 'file', mode: 0o444, uid: 0, gid: 0, size: data.length, mtime: 0 }),
  data,
  Buffer.alloc(paddingFor(data.length)),
];

/**
 * The bootstrap layer nydus-snapshotter looks for: gzip(tar{image/, image/image.boot, and for
 * RAFS v6 one image/<blob id>.blob.meta per blob: its chunk-info table and header}).
 */
export function bootstrapLayer(
  bootstrap: Buffer,
  blobMetas: { id: string; meta: Buffer }[] = [],
): { data: Buffer; diffId: string } {
  const tar = Buffer.concat([
    encodeTarHeader({ name: 'image/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }),
    ...file('image/image.boot', bootstrap),
    ...blobMetas.flatMap((b) => file(`image/${b.id}.blob.meta`, b.meta)),
    END_OF_ARCHIVE,
  ]);
  return { data: gzipSync(tar, { level: 6 }), diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` };
}
