import { TarFormatError, encodeTarHeader, readTar } from '@accel/convert';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, linkSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';

interface Read {
  name: string;
  type: string;
  size: number;
  linkname?: string;
  uid: number;
  mtime: number;
  content: Buffer;
  pax?: Record<string, string>;
}

/** Reads every entry, in small chunks so headers and bodies straddle chunk boundaries. */
async function readAll(tar: Buffer, chunk = 777): Promise<Read[]> {
  const parts: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) parts.push(tar.subarray(i, i + chunk));
  return readParts(parts);
}

/** With `recycle`, each piece is copied before the next is asked for, as the contract says. */
async function readParts(parts: Buffer[], recycle?: (chunk: Buffer) => void): Promise<Read[]> {
  const out: Read[] = [];
  for await (const { header, body } of readTar(Readable.from(parts), recycle)) {
    const content: Buffer[] = [];
    for await (const c of body) content.push(recycle ? Buffer.from(c) : c);
    out.push({
      name: Buffer.from(header.name, 'latin1').toString('utf8'),
      type: header.type,
      size: header.size,
      linkname: header.linkname && Buffer.from(header.linkname, 'latin1').toString('utf8'),
      uid: header.uid,
      mtime: header.mtime,
      content: Buffer.concat(content),
      pax: header.pax,
    });
  }
  return out;
}

describe('tar reader, against what GNU tar writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'accel-tar-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const deep = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(60)}`;
  const longFile = `${deep}/${'n'.repeat(120)}.txt`;
  mkdirSync(join(root, deep), { recursive: true });
  writeFileSync(join(root, longFile), 'long name\n');
  writeFileSync(join(root, 'plain.bin'), Buffer.alloc(70_000, 7));
  writeFileSync(join(root, 'üñí.txt'), 'utf8 name\n');
  symlinkSync(`../${'t'.repeat(150)}`, join(root, 'long-link'));
  linkSync(join(root, 'plain.bin'), join(root, 'z-hard.bin'));
  utimesSync(join(root, 'plain.bin'), 1_700_000_000, 1_700_000_000);
  const gnuTar = (...args: string[]) =>
    execFileSync('tar', ['-C', root, '--sort=name', ...args, '-cf', '-', '.'], { maxBuffer: 1 << 26 });

  const check = (entries: Read[], format: string) => {
    const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
    assert.equal(byName.get(longFile)?.content.toString(), 'long name\n', `${format}: long name`);
    assert.equal(byName.get('üñí.txt')?.content.toString(), 'utf8 name\n', `${format}: UTF-8 name`);
    const plain = byName.get('plain.bin')!;
    assert.equal(plain.type, 'file');
    assert.equal(plain.size, 70_000);
    assert.deepEqual(plain.content, Buffer.alloc(70_000, 7));
    assert.equal(plain.mtime, 1_700_000_000);
    assert.equal(byName.get('z-hard.bin')?.type, 'link', `${format}: hard link`);
    assert.equal(byName.get('z-hard.bin')?.linkname?.replace(/^\.\//, ''), 'plain.bin');
    assert.equal(byName.get('long-link')?.type, 'symlink');
    assert.equal(byName.get('long-link')?.linkname, `../${'t'.repeat(150)}`, `${format}: long link target`);
    assert.equal(byName.get(deep)?.type ?? byName.get(`${deep}/`)?.type, 'directory');
  };

  it('reads GNU format (././@LongLink names and link targets)', async () =>
    check(await readAll(gnuTar('--format=gnu')), 'gnu'));

  it('reads POSIX pax format (path and linkpath records)', async () =>
    check(await readAll(gnuTar('--format=posix')), 'posix'));

  it('reads GNU base-256 numbers (ids too large for octal)', async () => {
    const entries = await readAll(gnuTar('--format=gnu', '--owner=big:3000000', '--mtime=@99999999999'));
    assert.ok(entries.length > 5);
    for (const e of entries) {
      assert.equal(e.uid, 3_000_000, e.name);
      assert.equal(e.mtime, 99_999_999_999, e.name);
    }
  });

  it('applies a global PAX header to the entries after it, local records winning', async () => {
    const pax = (records: string, flag: string) => {
      const body = Buffer.from(records);
      const h = encodeTarHeader({ name: 'pax', type: 'file', mode: 0, uid: 0, gid: 0, size: body.length, mtime: 0 });
      h[156] = flag.charCodeAt(0);
      // Re-checksum after changing the type flag.
      h.fill(0x20, 148, 156);
      const sum = h.reduce((a, b) => a + b, 0);
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
      return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
    };
    const file = (name: string) =>
      encodeTarHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 });
    const tar = Buffer.concat([
      pax('18 uname=everyone\n', 'g'),
      file('a'),
      pax('15 uname=local\n', 'x'),
      file('b'),
      Buffer.alloc(1024),
    ]);
    const entries: string[] = [];
    for await (const { header } of readTar(Readable.from([tar]))) entries.push(`${header.name}:${header.uname}`);
    assert.deepEqual(entries, ['a:everyone', 'b:local']);
  });

  it('keeps binary PAX values byte for byte (security.capability)', async () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80]);
    const header = encodeTarHeader({
      name: 'bin/ping',
      type: 'file',
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
      pax: { 'SCHILY.xattr.security.capability': value.toString('latin1') },
    });
    const [e] = await readAll(Buffer.concat([header, Buffer.alloc(1024)]));
    assert.deepEqual(Buffer.from(e.pax!['SCHILY.xattr.security.capability'], 'latin1'), value);
  });

  it('reads to the end of the stream after the end-of-archive marker (the diff_id covers it)', async () => {
    const tar = Buffer.concat([gnuTar('--format=posix'), Buffer.alloc(10_240)]);
    const input = Readable.from([tar]);
    await readAll(tar);
    // Bodies left unread are skipped.
    for await (const { header } of readTar(input)) assert.ok(header.name);
    assert.equal(input.readableEnded, true);
  });

  it('says where a stream stops being a tar, and names an entry cut short', async () => {
    const tar = gnuTar('--format=posix');
    const damaged = Buffer.from(tar);
    damaged.fill(0x41, 2048, 2560);
    await assert.rejects(
      readAll(damaged),
      (e: Error) => e instanceof TarFormatError && /invalid (tar|PAX extended) header at byte \d+/.test(e.message),
    );
    const plainAt = tar.indexOf(Buffer.alloc(1000, 7));
    await assert.rejects(
      readAll(tar.subarray(0, plainAt + 500)),
      (e: Error) => e instanceof TarFormatError && /ends early, inside "\.\/plain\.bin"/.test(e.message),
    );
    await assert.rejects(readAll(Buffer.from('this is not a tar archive, not at all\n'.repeat(40))), TarFormatError);
  });

  it('hands a chunk back for reuse only once everything taken from it is done with', async () => {
    // Split where each PAX header's body ends, so that its chunk is used up by the body and
    // the padding after it comes from the next one; elsewhere every 777 bytes.
    const tar = gnuTar('--format=posix');
    const cuts = new Set<number>();
    for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
      const size =
        parseInt(
          tar
            .subarray(at + 124, at + 136)
            .toString('latin1')
            .trim(),
          8,
        ) || 0;
      if (tar[at + 156] === 'x'.charCodeAt(0)) cuts.add(at + 512 + size);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    assert.ok(cuts.size >= 3, 'the archive has PAX headers');
    for (let i = 777; i < tar.length; i += 777) cuts.add(i);
    const points = [0, ...[...cuts].sort((a, b) => a - b), tar.length];
    const parts = points.slice(1).map((end, i) => Buffer.from(tar.subarray(points[i], end)));
    // A chunk handed back is overwritten at once, as gunzip would write its next output into it.
    const recycled = new Set<Buffer>();
    const scribble = (c: Buffer) => {
      assert.ok(parts.some((p) => p === c) && !recycled.has(c), 'only whole chunks of the stream, each once');
      recycled.add(c);
      c.fill(0x5a);
    };
    const want = await readParts(parts.map((p) => Buffer.from(p)));
    assert.deepEqual(await readParts(parts, scribble), want);
    assert.ok(recycled.size > parts.length / 2, `${recycled.size} of ${parts.length} chunks handed back`);
    check(want, 'posix, recycled');
    // A consumer that streams may keep chunks: that is refused rather than silently corrupted.
    await assert.rejects(
      (async () => {
        for await (const { body } of readTar(Readable.from([tar]), () => undefined)) body.stream();
      })(),
      /only through iteration/,
    );
  });

  it('skips what a consumer leaves of a body, read as chunks or as a stream, and still names a cut', async () => {
    const tar = gnuTar('--format=posix');
    const parts = (t: Buffer) =>
      Array.from({ length: Math.ceil(t.length / 777) }, (_, i) => t.subarray(i * 777, (i + 1) * 777));
    for (const how of ['chunks', 'stream'] as const) {
      const names: string[] = [];
      let utf8 = '';
      for await (const { header, body } of readTar(Readable.from(parts(tar)))) {
        names.push(header.name.replace(/^\.\//, ''));
        if (header.name.endsWith('.txt') && !header.name.includes('/n')) {
          for await (const c of how === 'chunks' ? body : body.stream()) utf8 += c.toString();
          continue;
        }
        // One chunk of plain.bin, then on to the next entry.
        if (header.size > 0) for await (const _ of how === 'chunks' ? body : body.stream()) break;
      }
      assert.ok(names.includes('plain.bin') && names.includes('z-hard.bin'), how);
      assert.equal(utf8, 'utf8 name\n', `${how}: the entry after a half-read one`);
    }
    const plainAt = tar.indexOf(Buffer.alloc(1000, 7));
    await assert.rejects(
      (async () => {
        for await (const { body } of readTar(Readable.from(parts(tar.subarray(0, plainAt + 500))))) void body;
      })(),
      (e: Error) => e instanceof TarFormatError && /ends early, inside "\.\/plain\.bin"/.test(e.message),
    );
  });
});
