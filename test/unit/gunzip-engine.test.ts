import {
  GunzipEngine,
  GzipDataError,
  isRecycling,
  pickDeflate,
  pickGunzip,
  withLayerTar,
  zlibGunzip,
} from '@accel/convert';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

const isal = pickGunzip('isal').engine;
const engines: GunzipEngine[] = [isal, zlibGunzip];
// Real data: a slice of the node binary decompresses like a layer's executables do.
const binary = readFileSync(process.execPath).subarray(0, 4 << 20);
const text = Buffer.from('a line of a config file, key=value\n'.repeat(60_000));

async function gunzip(
  engine: GunzipEngine,
  input: Buffer,
  pieces = 1,
  chunkSize = 64 << 10,
  lean = false,
): Promise<Buffer> {
  const step = Math.max(1, Math.ceil(input.length / pieces));
  const parts: Buffer[] = [];
  for (let at = 0; at < input.length; at += step) parts.push(input.subarray(at, at + step));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(engine.createGunzip(chunkSize, lean))) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** A gzip member with every optional header field of RFC 1952: FEXTRA, FNAME, FCOMMENT and FHCRC. */
function memberWithAllHeaderFields(data: Buffer): Buffer {
  const extra = Buffer.from('AB\x04\x00wxyz', 'latin1');
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(extra.length);
  const head = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02, 1, 2, 3, 4, 0, 3]),
    xlen,
    extra,
    Buffer.from('file.tar\0a comment\0', 'latin1'),
  ]);
  const hcrc = Buffer.alloc(2);
  hcrc.writeUInt16LE(crc32(head) & 0xffff);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, hcrc, deflateRawSync(data), trailer]);
}

describe('layer decompression (ISA-L addon and zlib)', () => {
  it('the test command built the ISA-L addon, and auto picks it', () => {
    assert.match(isal.name, /^isa-l \d+\.\d+/);
    assert.equal(pickGunzip('auto').engine.name, isal.name);
    assert.equal(pickGunzip('zlib').engine, zlibGunzip);
  });

  for (const engine of engines) {
    it(`${engine.name}: reads what GNU gzip, zlib and libdeflate write, split anywhere, in full-size chunks`, async () => {
      const gnu = execFileSync('gzip', ['-6', '-c'], { input: binary, maxBuffer: 16 << 20 });
      const dir = mkdtempSync(join(tmpdir(), 'accel-gunzip-'));
      writeFileSync(join(dir, 'layer.tar'), text);
      const named = execFileSync('gzip', ['-N', '-9', '-c', join(dir, 'layer.tar')]);
      rmSync(dir, { recursive: true });
      const libdeflate = await pickDeflate('libdeflate').engine.gzipMember([text], 9);
      const cases: [string, Buffer, Buffer][] = [
        ['GNU gzip', gnu, binary],
        ['GNU gzip -N (FNAME)', named, text],
        ['zlib', gzipSync(text), text],
        ['libdeflate', libdeflate, text],
        ['every header field', memberWithAllHeaderFields(binary), binary],
        ['empty', gzipSync(Buffer.alloc(0)), Buffer.alloc(0)],
      ];
      for (const [name, gz, plain] of cases) {
        for (const pieces of [1, 7, 1000]) {
          const out = await gunzip(engine, gz, pieces);
          assert.ok(out.equals(plain), `${name}, ${pieces} pieces: ${out.length} bytes, want ${plain.length}`);
        }
      }
      const chunks: number[] = [];
      for await (const c of Readable.from([gnu]).pipe(engine.createGunzip(100_000))) chunks.push((c as Buffer).length);
      assert.ok(
        chunks.slice(0, -1).every((n) => n === 100_000),
        `chunks of the size asked for: ${chunks.slice(0, 5)}`,
      );
    });

    it(`${engine.name}: reads every member of a multi-member stream (eStargz), and zero padding after the last`, async () => {
      const members = [binary.subarray(0, 1 << 20), Buffer.alloc(0), text, binary.subarray(1 << 20)];
      const gz = Buffer.concat([
        ...members.map((m, i) => (i % 2 ? gzipSync(m) : execFileSync('gzip', ['-c'], { input: m }))),
        Buffer.alloc(512),
      ]);
      for (const pieces of [1, 13, 4000])
        assert.ok((await gunzip(engine, gz, pieces)).equals(Buffer.concat(members)), `${pieces} pieces`);
      // Lean (mapped) chunks, as eStargz reads: the same bytes, each chunk whole and its own.
      for (const chunkSize of [256 << 10, 100_000]) {
        const out = await gunzip(engine, gz, 13, chunkSize, true);
        assert.ok(out.equals(Buffer.concat(members)), `lean, chunks of ${chunkSize}`);
      }
    });

    it(`${engine.name}: refuses a truncated stream, a wrong CRC32 or size, garbage after a member and a bad header`, async () => {
      const gz = gzipSync(binary);
      const crc = Buffer.from(gz);
      crc[gz.length - 8] ^= 1;
      const size = Buffer.from(gz);
      size[gz.length - 1] ^= 1;
      const method = Buffer.from(gz);
      method[2] = 7;
      const bad: [string, Buffer][] = [
        ['truncated in the data', gz.subarray(0, gz.length >> 1)],
        ['truncated in the trailer', gz.subarray(0, gz.length - 3)],
        ['CRC32', crc],
        ['ISIZE', size],
        ['garbage after a member', Buffer.concat([gz, Buffer.from('not gzip at all')])],
        ['compression method', method],
      ];
      // zlib stops at padding and drops what follows; Go's reader (containerd) refuses it.
      if (engine === isal) bad.push(['a member after zero padding', Buffer.concat([gz, Buffer.alloc(100), gz])]);
      for (const [name, input] of bad) {
        await assert.rejects(gunzip(engine, input, 5), (e: Error) => {
          assert.ok(e instanceof Error && e.message.length > 0, name);
          if (name.includes('padding')) assert.match(e.message, /data after the zero padding/);
          if (engine === isal) assert.ok(e instanceof GzipDataError, `${name}: ${e.constructor.name} ${e.message}`);
          return true;
        });
      }
    });
  }

  it('ISA-L writes its output again into chunks handed back, only its own and each once', async () => {
    const input = Buffer.concat([binary, binary, binary]);
    const gz = isal.createGunzip(1 << 20, true);
    assert.ok(isRecycling(gz) && !isRecycling(zlibGunzip.createGunzip(1 << 20)));
    const seen = new Set<Buffer>();
    const out: Buffer[] = [];
    let held: Buffer | undefined;
    gz.on('data', (c: Buffer) => {
      out.push(Buffer.from(c));
      assert.notEqual(c, held, 'a chunk still held is never written again');
      seen.add(c);
      // One chunk held back at a time; the one before it, handed back twice, and a stranger.
      if (held) {
        gz.recycle(held);
        gz.recycle(held);
      }
      gz.recycle(Buffer.alloc(1 << 20));
      held = c;
    });
    await finished(Readable.from([gzipSync(input)]).pipe(gz));
    assert.ok(Buffer.concat(out).equals(input));
    assert.ok(out.length >= 12 && seen.size <= 3, `${out.length} chunks in ${seen.size} buffers`);
  });

  it('ISA-L takes 64 KiB input chunks in batches, holding no more output than its reader takes', async () => {
    // A registry's body: 64 KiB chunks, arriving faster than a slow reader takes the output.
    const input = randomBytes(16 << 20);
    const data = gzipSync(input, { level: 1 });
    const parts = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) =>
      data.subarray(i * 65536, (i + 1) * 65536),
    );
    const gz = isal.createGunzip(1 << 20, true);
    Readable.from(parts).pipe(gz);
    const out: Buffer[] = [];
    let mostHeld = 0;
    for await (const c of gz) {
      out.push(Buffer.from(c as Buffer));
      await new Promise((r) => setTimeout(r, 10));
      mostHeld = Math.max(mostHeld, gz.readableLength);
    }
    assert.ok(Buffer.concat(out).equals(input));
    assert.ok(mostHeld <= 2 << 20, `${mostHeld} bytes of output held for the reader`);
  });

  it('the ISA-L addon refuses bad arguments with TypeError or RangeError, and one call at a time per stream', async () => {
    const addon = require(
      join(__dirname, '..', '..', '..', 'libs', 'convert', 'native', 'build', 'Release', 'accel_gunzip.node'),
    ) as {
      gunzipCreate(): object;
      gunzipRun(...args: unknown[]): Promise<[number, number, boolean]>;
    };
    const state = addon.gunzipCreate();
    const out = Buffer.alloc(1024);
    assert.throws(() => addon.gunzipRun({}, Buffer.alloc(1), 0, out, 0), TypeError);
    assert.throws(() => addon.gunzipRun(state, 'text', 0, out, 0), TypeError);
    assert.throws(() => addon.gunzipRun(state, Buffer.alloc(4), 5, out, 0), RangeError);
    assert.throws(() => addon.gunzipRun(state, Buffer.alloc(4), 0, out, -1), RangeError);
    assert.throws(() => addon.gunzipRun(state, Buffer.alloc(4), 0.5, out, 0), RangeError);
    const gz = gzipSync(text);
    const first = addon.gunzipRun(state, gz, 0, out, 0);
    assert.throws(() => addon.gunzipRun(state, gz, 0, out, 0), /already running/);
    const [inAt, outAt, inMember] = await first;
    assert.equal(outAt, out.length, 'stopped with the output full');
    assert.ok(inAt > 0 && inMember);
  });

  it('a layer read through ISA-L hashes to its diff_id, and a damaged one is named gzip damage', async () => {
    const gz = execFileSync('bash', ['-c', `tar -C ${join(__dirname, '..')} -cf - unit | gzip -c`], {
      maxBuffer: 64 << 20,
    });
    const raw = execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 });
    const diffId = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    const buffering = { chunkSize: 256 << 10, readAhead: 1 << 20, engine: isal };
    let bytes = 0;
    await withLayerTar(
      Readable.from([gz]),
      async (tar) => {
        for await (const c of tar) bytes += (c as Buffer).length;
      },
      diffId,
      buffering,
    );
    assert.equal(bytes, raw.length);
    const damaged = Buffer.from(gz);
    damaged[gz.length - 6] ^= 0xff; // the CRC32: every byte reads, the trailer does not match
    await assert.rejects(
      withLayerTar(Readable.from([damaged]), (tar) => tar.resume().toArray(), undefined, buffering),
      /source layer is corrupt: its gzip stream is damaged at about byte \d+ of the blob .*gzip trailer does not match/,
    );
  });
});
