import {
  convertLayerToEstargz,
  DeflateEngine,
  openEstargz,
  bufferRangeReader,
  pickDeflate,
  zlibDeflate,
} from '@accel/convert';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { verifyWithUpstreamReader } from '../support/estargz-upstream';
import { gzipLayerOf, richLayerFiles } from '../support/layers';

const libdeflate = pickDeflate('libdeflate').engine;
const engines: DeflateEngine[] = [libdeflate, zlibDeflate];
// Real data: a slice of the node binary compresses like a layer's executables do.
const binary = readFileSync(process.execPath).subarray(0, 3 << 20);
const inputs = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(1 << 20, 0x5a), binary];

async function esgz(engine: DeflateEngine, layer: Buffer, prioritizedFiles?: string[]) {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const result = await convertLayerToEstargz(Readable.from([layer]), out, {
    chunkSize: 64 << 10,
    level: 9,
    deflate: engine,
    prioritizedFiles,
  });
  out.end();
  return { result, blob: Buffer.concat(parts) };
}

describe('gzip members (libdeflate addon and zlib)', () => {
  it('the test command built the libdeflate addon, and auto picks it', () => {
    assert.match(libdeflate.name, /^libdeflate \d+\.\d+/);
    assert.equal(pickDeflate('auto').engine.name, libdeflate.name);
    assert.equal(pickDeflate('zlib').engine, zlibDeflate);
  });

  for (const engine of engines) {
    it(`${engine.name}: GNU gzip reads every member back, with Go's header and an exact CRC32 and ISIZE`, async () => {
      for (const level of [0, 1, 6, 9]) {
        for (const data of inputs) {
          const member = await engine.gzipMember([data.subarray(0, 7), data.subarray(7)], level);
          const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
          assert.deepEqual([...member.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 0xff]);
          assert.equal(member.readUInt32LE(member.length - 8), crc32(data) >>> 0);
          assert.equal(member.readUInt32LE(member.length - 4), data.length);
          const back = execFileSync('gzip', ['-dc'], { input: member, maxBuffer: 16 << 20 });
          assert.ok(back.equals(data), `level ${level}, ${data.length} bytes`);
        }
      }
      const nine = await engine.gzipMember([binary], 9);
      const one = await engine.gzipMember([binary], 1);
      assert.ok(nine.length < one.length, 'level 9 writes less than level 1');
    });
  }

  it('both engines write the same eStargz layer: the same tar before the TOC, the same TOC entries', async () => {
    const { data } = await gzipLayerOf(richLayerFiles(64 << 10));
    const [a, b] = await Promise.all(engines.map((e) => esgz(e, data)));
    assert.equal(a.result.deflate, libdeflate.name);
    assert.equal(b.result.deflate, zlibDeflate.name);
    // Only the TOC's offsets may differ: the members' compressed sizes do.
    const [tarA, tarB] = [a, b].map((x) => execFileSync('gzip', ['-dc'], { input: x.blob, maxBuffer: 64 << 20 }));
    assert.equal(tarA.length, a.result.uncompressedSize);
    const beforeToc = (tar: Buffer) => tar.subarray(0, tar.indexOf('stargz.index.json'));
    assert.ok(beforeToc(tarA).length > 100_000);
    assert.ok(beforeToc(tarA).equals(beforeToc(tarB)));
    const entries = async (blob: Buffer) =>
      (await openEstargz(bufferRangeReader(blob), blob.length)).toc.entries.map(({ offset: _o, ...e }) => e);
    assert.deepEqual(await entries(a.blob), await entries(b.blob));
  });

  for (const engine of engines) {
    it(`${engine.name}: upstream's Go eStargz reader verifies the TOC, every chunk and every file of the blob`, async () => {
      const files = richLayerFiles(64 << 10);
      const { data } = await gzipLayerOf(files);
      const regular = files.filter((f) => f.type === 'file' && f.content!.length > 0).length;
      for (const prioritized of [undefined, ['/usr/bin/tool-link', 'etc/app.conf']]) {
        const { result, blob } = await esgz(engine, data, prioritized);
        const checked = await verifyWithUpstreamReader(blob, result.tocDigest);
        // Every regular file with data, plus the landmark; the 2-chunk-and-a-bit file has three chunks.
        assert.equal(checked.files, regular + 1);
        assert.ok(checked.chunks >= checked.files + 2, `${checked.chunks} chunks for ${checked.files} files`);
      }
    });
  }

  it('the upstream reader refuses a blob whose chunk bytes were changed', async () => {
    const { data } = await gzipLayerOf(richLayerFiles(64 << 10));
    const { result, blob } = await esgz(libdeflate, data);
    await assert.rejects(verifyWithUpstreamReader(blob, `sha256:${'0'.repeat(64)}`), /invalid TOC JSON/);
    // One byte of usr/bin/tool's first member flipped: whatever the reader makes of it, that file fails.
    const { toc } = await openEstargz(bufferRangeReader(blob), blob.length);
    const tool = toc.entries.find((e) => e.name === 'usr/bin/tool' && e.type === 'reg')!;
    const tampered = Buffer.from(blob);
    tampered[tool.offset! + 200] ^= 0x55;
    await assert.rejects(
      verifyWithUpstreamReader(tampered, result.tocDigest),
      /refused the blob: usr\/bin\/tool(-link)?: chunk at 0 does not match its digest/,
    );
  });

  it('refuses what is not a buffer or a level, without ending the process', async () => {
    const addon = libdeflate as unknown as { gzipMember(d: unknown, l: unknown): Promise<Buffer> };
    assert.throws(() => addon.gzipMember('text', 9), TypeError);
    assert.throws(() => addon.gzipMember([Buffer.from('x'), 'y'], 9), TypeError);
    assert.throws(() => addon.gzipMember([Buffer.from('x')], 13), RangeError);
    assert.throws(() => addon.gzipMember([Buffer.from('x')], -1), RangeError);
  });
});
