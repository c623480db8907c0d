import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { END_OF_ARCHIVE, encodeTarHeader, paddingFor } from '../tar/tar-header';

/** The bootstrap layer nydus-snapshotter looks for: gzip(tar{image/, image/image.boot}). */
export function bootstrapLayer(bootstrap: Buffer): { data: Buffer; diffId: string } {
  const tar = Buffer.concat([
    encodeTarHeader({ name: 'image/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }),
    encodeTarHeader({ name: 'image/image.boot', type: 'file', mode: 0o444, uid: 0, gid: 0, size: bootstrap.length, mtime: 0 }),
    bootstrap,
    Buffer.alloc(paddingFor(bootstrap.length)),
    END_OF_ARCHIVE,
  ]);
  return { data: gzipSync(tar, { level: 6 }), diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` };
}
