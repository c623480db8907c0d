import {
  EstargzWriter,
  LayerFormatError,
  bufferRangeReader,
  convertLayerToEstargz,
  encodeTarHeader,
  marshalToc,
  openEstargz,
  readTar,
} from '@accel/convert';
import assert from 'node:assert/strict';
import { Readable, PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { gzipLayerOf, richLayerFiles, sha256 } from '../support/layers';

const CHUNK = 64 * 1024;

async function convert(data: Buffer, opts = { chunkSize: CHUNK, level: 9 }) {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const result = await convertLayerToEstargz(Readable.from([data]), out, opts);
  out.end();
  return { result, blob: Buffer.concat(parts) };
}

describe('eStargz writer', () => {
  it('writes a blob whose TOC finds every file by offset, with every digest right', async () => {
    const files = richLayerFiles(CHUNK);
    const { data } = await gzipLayerOf(files);
    const { result, blob } = await convert(data);
    assert.equal(result.size, blob.length);
    assert.equal(result.digest, sha256(blob));
    const opened = await openEstargz(bufferRangeReader(blob), blob.length);
    assert.equal(opened.tocDigest, result.tocDigest);
    const byName = new Map(opened.toc.entries.filter((e) => e.type !== 'chunk').map((e) => [e.name, e]));
    assert.equal(opened.toc.entries[0].name, '.no.prefetch.landmark');
    for (const f of files) {
      const e = byName.get(f.name);
      assert.ok(e, `TOC has ${f.name}`);
      const type = {
        file: 'reg',
        directory: 'dir',
        symlink: 'symlink',
        link: 'hardlink',
        'character-device': 'char',
        'block-device': 'block',
        fifo: 'fifo',
      }[f.type];
      assert.equal(e.type, type, f.name);
      assert.equal(e.mode ?? 0, f.mode ?? 0o644, `${f.name} mode`);
      if (f.type === 'file') {
        assert.equal(e.size ?? 0, f.content!.length);
        assert.equal(e.digest, sha256(f.content!));
        assert.deepEqual(await opened.readFile(f.name), f.content);
      }
      if (f.linkname) assert.equal(e.linkName, f.linkname);
      if (f.devmajor) assert.deepEqual([e.devMajor, e.devMinor ?? 0], [f.devmajor, f.devminor]);
    }
    assert.deepEqual(byName.get('opt/caps')!.xattrs, {
      'user.comment': Buffer.from('hello xattr').toString('base64'),
      'user.mime_type': Buffer.from('text/x-shellscript').toString('base64'),
    });
    // uid/gid names are written only when they change.
    assert.equal(byName.get('etc/app.conf')!.userName, 'app');
    assert.equal(byName.get('etc/same-owner')!.userName, undefined);
  });

  it('splits large files into chunks as the upstream writer does', async () => {
    const files = richLayerFiles(CHUNK);
    const { blob } = await convert((await gzipLayerOf(files)).data);
    const { toc } = await openEstargz(bufferRangeReader(blob), blob.length);
    const tool = toc.entries.filter((e) => e.name === 'usr/bin/tool');
    assert.deepEqual(
      tool.map((e) => [e.type, e.chunkOffset ?? 0, e.chunkSize ?? 0]),
      [
        ['reg', 0, CHUNK],
        ['chunk', CHUNK, CHUNK],
        ['chunk', 2 * CHUNK, 0],
      ],
    );
    const exact = toc.entries.filter((e) => e.name === 'usr/bin/exact-chunk');
    assert.deepEqual(
      exact.map((e) => [e.type, e.chunkSize ?? 0]),
      [['reg', CHUNK]],
    );
    const offsets = toc.entries.filter((e) => e.offset).map((e) => e.offset!);
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => a - b),
      'payload members in order',
    );
    assert.equal(new Set(offsets).size, offsets.length, 'a gzip member per payload chunk');
  });

  it('decompresses to one valid tar: landmark, the source entries in order, then the TOC; diff_id is its digest', async () => {
    const files = richLayerFiles(CHUNK);
    const { result, blob } = await convert((await gzipLayerOf(files)).data);
    const tar = gunzipSync(blob);
    assert.equal(result.diffId, sha256(tar));
    assert.equal(result.uncompressedSize, tar.length);
    const names: string[] = [];
    for await (const { header, body } of readTar(Readable.from([tar]))) {
      const content: Buffer[] = [];
      for await (const c of body) content.push(c as Buffer);
      names.push(Buffer.from(header.name, 'latin1').toString('utf8'));
      const src = files.find((f) => f.name === names.at(-1));
      if (src?.content) assert.deepEqual(Buffer.concat(content), src.content, names.at(-1));
    }
    assert.deepEqual(names, ['.no.prefetch.landmark', ...files.map((f) => f.name), 'stargz.index.json']);
  });

  it('places prioritized files (with their parents and link targets) before .prefetch.landmark', async () => {
    const files = richLayerFiles(CHUNK);
    const { data } = await gzipLayerOf(files);
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (c: Buffer) => parts.push(c));
    await convertLayerToEstargz(Readable.from([data]), out, {
      chunkSize: CHUNK,
      level: 6,
      prioritizedFiles: ['/usr/bin/tool-link', 'etc/app.conf', '/not/there'],
    });
    const blob = Buffer.concat(parts);
    const opened = await openEstargz(bufferRangeReader(blob), blob.length);
    const head = opened.toc.entries
      .filter((e) => e.type !== 'chunk')
      .map((e) => e.name)
      .slice(0, 7);
    assert.deepEqual(head, [
      'usr/',
      'usr/bin/',
      'usr/bin/tool',
      'usr/bin/tool-link',
      'etc/',
      'etc/app.conf',
      '.prefetch.landmark',
    ]);
    const names = opened.toc.entries.filter((e) => e.type !== 'chunk').map((e) => e.name);
    assert.equal(names.length, files.length + 1, 'every entry once, plus the landmark');
    assert.deepEqual(await opened.readFile('usr/bin/tool'), files.find((f) => f.name === 'usr/bin/tool')!.content);
    const tar = gunzipSync(blob);
    const order: string[] = [];
    for await (const { header } of readTar(Readable.from([tar]))) order.push(header.name);
    assert.deepEqual(order.slice(0, 7), head, 'the tar stream has the same order');
  });

  it('is deterministic and honours the compression level', async () => {
    const { data } = await gzipLayerOf(richLayerFiles(CHUNK));
    const a = await convert(data);
    const b = await convert(data);
    assert.equal(a.result.digest, b.result.digest);
    const fast = await convert(data, { chunkSize: CHUNK, level: 1 });
    assert.ok(fast.result.size > a.result.size, 'level 1 compresses less than level 9');
    const strip = async (blob: Buffer) =>
      (await openEstargz(bufferRangeReader(blob), blob.length)).toc.entries.map(({ offset: _o, ...e }) => e);
    assert.deepEqual(await strip(fast.blob), await strip(a.blob), 'the same entries whatever the level');
  });

  it('keeps binary xattr bytes and drops an input TOC or landmark', async () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x80, 0x00]);
    const entry = encodeTarHeader({
      name: 'bin/ping',
      type: 'file',
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 2,
      mtime: 1,
      pax: { 'SCHILY.xattr.security.capability': value.toString('latin1') },
    });
    const stale = encodeTarHeader({
      name: 'stargz.index.json',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 2,
      mtime: 1,
    });
    const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
    const tar = Buffer.concat([stale, Buffer.from('{}'), pad(2), entry, Buffer.from('hi'), pad(2), Buffer.alloc(1024)]);
    const { blob } = await convert(gzipSync(tar));
    const { toc } = await openEstargz(bufferRangeReader(blob), blob.length);
    assert.deepEqual(
      toc.entries.map((e) => e.name),
      ['.no.prefetch.landmark', 'bin/ping'],
    );
    assert.deepEqual(Buffer.from(toc.entries[1].xattrs!['security.capability'], 'base64'), value);
  });

  it('reports corrupt or truncated layers as such', async () => {
    const { data } = await gzipLayerOf(richLayerFiles(CHUNK));
    await assert.rejects(convert(Buffer.concat([data.subarray(0, 100), Buffer.from('garbage')])), LayerFormatError);
    await assert.rejects(convert(data.subarray(0, Math.floor(data.length / 2))), LayerFormatError);
    await assert.rejects(
      convert(gzipSync(Buffer.from('this is not a tar archive, not at all'.repeat(20)))),
      LayerFormatError,
    );
  });

  it("serialises the TOC as Go's json.MarshalIndent with tabs and HTML-safe escapes", () => {
    const json = marshalToc({
      version: 1,
      entries: [
        {
          name: 'a&b<c>',
          type: 'reg',
          size: 3,
          mode: 420,
          digest: 'sha256:x',
          xattrs: { 'user.b': 'Yg==', 'user.a': 'YQ==' },
        },
        { name: 'd/', type: 'dir' },
      ],
    }).toString();
    assert.equal(
      json,
      '{\n\t"version": 1,\n\t"entries": [\n\t\t{\n\t\t\t"name": "a\\u0026b\\u003cc\\u003e",\n\t\t\t"type": "reg",\n\t\t\t"size": 3,\n\t\t\t"mode": 420,\n\t\t\t"xattrs": {\n\t\t\t\t"user.a": "YQ==",\n\t\t\t\t"user.b": "Yg=="\n\t\t\t},\n\t\t\t"digest": "sha256:x"\n\t\t},\n\t\t{\n\t\t\t"name": "d/",\n\t\t\t"type": "dir"\n\t\t}\n\t]\n}',
    );
  });

  it('holds only a few chunks in memory for a large layer', async () => {
    // 64 MiB of file data through a 1 MiB chunk writer into a sink that counts bytes.
    let written = 0;
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => (written += c.length));
    const writer = new EstargzWriter(sink, { chunkSize: 1 << 20, level: 1 });
    const block = Buffer.alloc(1 << 20, 7);
    const before = process.memoryUsage().rss;
    let peak = before;
    async function* body() {
      for (let i = 0; i < 64; i++) {
        peak = Math.max(peak, process.memoryUsage().rss);
        yield block;
      }
    }
    await writer.writeEntry(
      { name: 'big.bin', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 64 << 20, mtime: 0 },
      Readable.from(body()),
    );
    const r = await writer.finish();
    assert.equal(r.size, written);
    assert.ok(peak - before < 48 << 20, `RSS grew by ${((peak - before) / 1048576).toFixed(0)} MiB for a 64 MiB file`);
  });
});
