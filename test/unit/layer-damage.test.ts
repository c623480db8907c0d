import { FsTree, LayerFormatError, convertLayerToEstargz, withLayerTar, writeLayerBlob } from '@accel/convert';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SourceFile, tarOf } from '../support/layers';

/** A layer of many files, mostly text (so deflate uses back-references a flipped byte breaks). */
function files(): SourceFile[] {
  const out: SourceFile[] = [];
  for (let i = 0; i < 200; i++) {
    const text = Buffer.from(`line ${i} of a config file with settings=${i % 7}\n`.repeat(200 + i));
    out.push({
      name: `etc/conf.d/file-${i}.conf`,
      type: 'file',
      content: i % 10 === 0 ? Buffer.concat([text, randomBytes(4096)]) : text,
      mode: 0o644,
    });
  }
  return out;
}

/** The gzip stream with 64 bytes overwritten in its middle: the header and the first half still read. */
function damagedInTheMiddle(gz: Buffer): { data: Buffer; at: number } {
  const data = Buffer.from(gz);
  const at = Math.floor(data.length / 2);
  for (let i = at; i < at + 64; i++) data[i] ^= 0x5a;
  return { data, at };
}

const sink = () => {
  const out = new PassThrough();
  out.resume();
  return out;
};

describe('damaged source layers are reported as corrupt, with where', () => {
  it('eStargz and Nydus writers name gzip damage in the middle of a layer and where it is, not a tar problem', async () => {
    const gz = gzipSync(await tarOf(files()));
    const { data, at } = damagedInTheMiddle(gz);
    const runs: [string, () => Promise<unknown>][] = [
      [
        'estargz',
        () =>
          convertLayerToEstargz(Readable.from([data.subarray(0, at), data.subarray(at)]), sink(), {
            chunkSize: 1 << 16,
            level: 6,
          }),
      ],
      [
        'nydus',
        () =>
          withLayerTar(Readable.from([data.subarray(0, at), data.subarray(at)]), (tar) =>
            writeLayerBlob(
              tar,
              new FsTree(),
              0,
              { write: async () => undefined },
              { chunkSize: 1 << 16, compressor: 'zstd', digester: 'blake3' },
            ),
          ),
      ],
    ];
    for (const [name, run] of runs) {
      await assert.rejects(run(), (e: Error) => {
        assert.ok(e instanceof LayerFormatError, `${name}: ${e.message}`);
        assert.doesNotMatch(e.message, /gunzipped|Invalid tar header/, name);
        const m = /source layer is corrupt: its gzip stream is damaged at about byte (\d+) of the blob/.exec(e.message);
        assert.ok(m, `${name}: ${e.message}`);
        // Where: after the damage, and not past the end of the blob.
        assert.ok(
          Number(m[1]) >= at && Number(m[1]) <= data.length,
          `${name}: byte ${m[1]}, damage at ${at}, blob ${data.length}`,
        );
        return true;
      });
    }
  });

  it('a valid gzip holding something that is not a tar is called an invalid tar, not gzip damage', async () => {
    const data = gzipSync(Buffer.from('this is not a tar archive, not at all\n'.repeat(400)));
    await assert.rejects(
      convertLayerToEstargz(Readable.from([data]), sink(), { chunkSize: 1 << 16, level: 6 }),
      (e: Error) => {
        assert.ok(e instanceof LayerFormatError);
        assert.match(
          e.message,
          /^source layer is corrupt: its tar stream is invalid within the first \d+ decompressed bytes/,
        );
        assert.doesNotMatch(e.message, /gunzipped/);
        return true;
      },
    );
  });
});

describe('source layers are checked against their diff_id', () => {
  it('both drivers refuse a layer whose content is not what the image config says, and accept the right one', async () => {
    const raw = await tarOf(files().slice(0, 20));
    const gz = gzipSync(raw);
    const right = `sha256:${require('node:crypto').createHash('sha256').update(raw).digest('hex')}`;
    const wrong = `sha256:${'0'.repeat(64)}`;
    const estargz = (diffId: string) =>
      convertLayerToEstargz(Readable.from([gz]), sink(), { chunkSize: 1 << 16, level: 1 }, diffId);
    const nydus = (diffId: string) =>
      withLayerTar(
        Readable.from([gz]),
        (tar) =>
          writeLayerBlob(
            tar,
            new FsTree(),
            0,
            { write: async () => undefined },
            { chunkSize: 1 << 16, compressor: 'zstd', digester: 'blake3' },
          ),
        diffId,
      );
    for (const [name, run] of [
      ['estargz', estargz],
      ['nydus', nydus],
    ] as const) {
      await run(right);
      await assert.rejects(run(wrong), (e: Error) => {
        assert.ok(e instanceof LayerFormatError, name);
        assert.equal(
          e.message,
          `source layer does not match its diff_id: the image config says ${wrong}, the layer uncompresses to ${right}`,
        );
        return true;
      });
    }
  });
});
