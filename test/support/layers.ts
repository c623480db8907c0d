import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export interface SourceFile {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The PAX mtime of `etc/subsecond` in the rich layer. */
export const SUBSECOND_MTIME = '1700000000.75';

/** Every entry type tar allows in an image layer, long names, xattrs, whiteouts and chunk-boundary sizes. */
export function richLayerFiles(chunkSize: number): SourceFile[] {
  const big = randomBytes(chunkSize * 2 + 1234);
  const exact = randomBytes(chunkSize);
  const longDir = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}`;
  return [
    { name: 'etc/', type: 'directory', mode: 0o755 },
    {
      name: 'etc/hostname',
      type: 'file',
      content: Buffer.from('accel\n'),
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
    },
    { name: 'etc/empty', type: 'file', content: Buffer.alloc(0), mode: 0o600 },
    {
      name: 'etc/app.conf',
      type: 'file',
      content: Buffer.from('key=value & <tag>\n'),
      mode: 0o640,
      uid: 1000,
      gid: 1000,
      uname: 'app',
      gname: 'app',
    },
    {
      name: 'etc/same-owner',
      type: 'file',
      content: Buffer.from('x'),
      mode: 0o644,
      uid: 1000,
      gid: 1000,
      uname: 'app',
      gname: 'app',
    },
    // A sub-second mtime (PAX), as most files of a real image have.
    { name: 'etc/subsecond', type: 'file', content: Buffer.from('t\n'), mode: 0o644, pax: { mtime: SUBSECOND_MTIME } },
    { name: 'usr/', type: 'directory', mode: 0o755 },
    { name: 'usr/bin/', type: 'directory', mode: 0o755 },
    { name: 'usr/bin/tool', type: 'file', content: big, mode: 0o4755 },
    { name: 'usr/bin/exact-chunk', type: 'file', content: exact, mode: 0o755 },
    { name: 'usr/bin/tool-copy', type: 'file', content: big, mode: 0o755 },
    { name: 'usr/bin/tool-link', type: 'link', linkname: 'usr/bin/tool' },
    { name: 'usr/bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'dev/', type: 'directory', mode: 0o755 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660 },
    { name: 'run/', type: 'directory', mode: 0o755 },
    { name: 'run/pipe', type: 'fifo', mode: 0o644 },
    { name: 'var/', type: 'directory', mode: 0o755 },
    { name: 'var/lib/', type: 'directory', mode: 0o755 },
    { name: 'var/lib/.wh.stale', type: 'file', content: Buffer.alloc(0), mode: 0o644 },
    { name: 'var/cache/', type: 'directory', mode: 0o755 },
    { name: 'var/cache/.wh..wh..opq', type: 'file', content: Buffer.alloc(0), mode: 0o644 },
    {
      name: 'opt/caps',
      type: 'file',
      content: Buffer.from('#!/bin/sh\n'),
      mode: 0o755,
      pax: { 'SCHILY.xattr.user.comment': 'hello xattr', 'SCHILY.xattr.user.mime_type': 'text/x-shellscript' },
    },
    { name: `${longDir}/${'f'.repeat(90)}.txt`, type: 'file', content: Buffer.from('long name\n'), mode: 0o644 },
    { name: `${longDir}/link-with-a-long-target`, type: 'symlink', linkname: `../../${'t'.repeat(150)}` },
    { name: 'srv/café/naïve.txt', type: 'file', content: Buffer.from('utf-8 names\n'), mode: 0o644 },
    // Directory entries spanning several 4 KiB blocks, and symlink targets too long to sit beside their inode.
    ...Array.from({ length: 300 }, (_, i): SourceFile => ({
      name: `many/entry-${String(i).padStart(4, '0')}-${'n'.repeat(20)}`,
      type: 'file',
      content: Buffer.from(`${i}\n`),
      mode: 0o644,
    })),
    { name: 'many/target-of-2500', type: 'symlink', linkname: `${'m/'.repeat(1248)}end` },
    { name: 'many/target-of-4050', type: 'symlink', linkname: `${'m/'.repeat(2023)}end` },
  ];
}

/** A tar stream of the files (tar-stream's writer, independent of the gateway's). */
export async function tarOf(files: SourceFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: f.name,
          type: f.type,
          size: f.content?.length ?? 0,
          mode: f.mode ?? 0o644,
          uid: f.uid ?? 0,
          gid: f.gid ?? 0,
          uname: f.uname ?? '',
          gname: f.gname ?? '',
          linkname: f.linkname,
          devmajor: f.devmajor ?? 0,
          devminor: f.devminor ?? 0,
          mtime: new Date(1_700_000_000_000),
          pax: f.pax,
        } as tar.Header,
        f.content ?? Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function gzipLayerOf(files: SourceFile[]): Promise<{ data: Buffer; tar: Buffer }> {
  const t = await tarOf(files);
  return { data: gzipSync(t), tar: t };
}
