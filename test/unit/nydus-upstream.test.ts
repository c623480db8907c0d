import { FsTree, INLINED_BLOB_ID, NydusBlob, parseBlob, writeLayerBlob, writeRafsV6 } from '@accel/convert';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { SourceFile, richLayerFiles, tarOf } from '../support/layers';
import { UpstreamBlobEntry, checkBlob, checkBootstrap } from '../support/nydus-upstream-rules';

/** Upstream's golden files, copied unchanged (origin and licence in their README). */
const VECTORS = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'nydus');
const vector = (dir: string) => {
  const name = readdirSync(join(VECTORS, dir))[0];
  return { name, data: readFileSync(join(VECTORS, dir, name)) };
};

const CHUNK = 64 * 1024;
const opts = { chunkSize: CHUNK, compressor: 'zstd' as const, digester: 'blake3' as const };

async function layer(files: SourceFile[], tree: FsTree, index: number): Promise<{ blob: Buffer; meta: NydusBlob }> {
  const parts: Buffer[] = [];
  const meta = await writeLayerBlob(
    Readable.from([await tarOf(files)]),
    tree,
    index,
    { write: async (d) => void parts.push(Buffer.from(d)) },
    opts,
  );
  return { blob: Buffer.concat(parts), meta };
}

describe('Nydus against upstream: golden files and upstream load-time rules', () => {
  it("upstream's own bootstrap and blob (nydus-image 2.2) pass the rules, and the project reads them as upstream does", () => {
    const boot = readFileSync(join(VECTORS, 'bootstrap', 'rafs-v6-2.2.boot'));
    const blob = vector('blobs');
    const b = checkBootstrap(boot, { merged: true });
    assert.deepEqual(b.violations, []);
    assert.equal(b.blobs.length, 1);
    assert.equal(b.blobs[0].id, blob.name, 'the blob is named by its id');
    assert.equal(b.chunkTable.offset % 4096n, 0n);
    const u = checkBlob(blob.data, b.blobs[0]);
    assert.deepEqual(u.violations, []);
    assert.equal(u.tocSize, 1024);
    assert.deepEqual(
      u.toc.map((e) => e.name),
      ['image.blob', 'blob.meta', 'blob.meta.header', 'blob.digest'],
    );
    const upstream = u.chunks.map((c) => [
      Number(c.compressedOffset),
      c.compressedSize,
      Number(c.uncompressedOffset),
      c.uncompressedSize,
    ]);
    assert.deepEqual(upstream, [
      [0, 4828, 0, 16931],
      [4828, 2974, 20480, 13400],
    ]);
    // The project's reader agrees with upstream's layout (the bootstrap says zstd).
    const ours = parseBlob(blob.data, 'zstd');
    assert.deepEqual(
      ours.chunks.map((c) => [c.compressedOffset, c.compressedSize, c.uncompressedOffset, c.uncompressedSize]),
      upstream,
    );
    assert.deepEqual(
      ours.toc.map((e) => e.name),
      u.toc.map((e) => e.name),
    );
  });

  it("upstream's inline-meta blob: ToC at 9010 + 1024, its inlined layer bootstrap passes the rules, the project reads it", () => {
    const { data } = vector('toc');
    assert.equal(data.length, 9010 + 1024);
    const ours = parseBlob(data);
    assert.deepEqual(
      ours.toc.map((e) => e.name),
      ['image.blob', 'blob.meta', 'blob.meta.header', 'image.boot'],
    );
    assert.equal(ours.chunks.length, 3);
    const e = ours.toc.find((t) => t.name === 'image.boot')!;
    const { decompress } = require('zstd-napi') as typeof import('zstd-napi');
    const layerBoot = checkBootstrap(
      decompress(data.subarray(e.compressedOffset, e.compressedOffset + e.compressedSize)),
      { layer: true },
    );
    assert.deepEqual(layerBoot.violations, []);
    assert.equal(layerBoot.blobs.length, 1);
  });

  it('a 3-layer conversion (with a metadata-only layer) passes every upstream rule: merged bootstrap, blobs, layer bootstraps', async () => {
    const tree = new FsTree();
    const lower = richLayerFiles(CHUNK);
    const dup = randomBytes(CHUNK * 2);
    const upper: SourceFile[] = [
      { name: 'opt/', type: 'directory', mode: 0o755 },
      { name: 'opt/a', type: 'file', content: dup, mode: 0o644 },
      { name: 'opt/b', type: 'file', content: dup, mode: 0o644 },
      { name: 'etc/.wh.hostname', type: 'file', content: Buffer.alloc(0) },
    ];
    const metaOnly: SourceFile[] = [
      { name: 'srv/', type: 'directory', mode: 0o750 },
      { name: 'srv/empty', type: 'file', content: Buffer.alloc(0), mode: 0o600 },
      { name: 'srv/link', type: 'symlink', linkname: '../opt/a' },
    ];
    const layers = [await layer(lower, tree, 0), await layer(upper, tree, 1), await layer(metaOnly, tree, 2)];
    const merged = checkBootstrap(
      writeRafsV6(
        tree,
        layers.map((l) => l.meta),
        opts,
      ),
      { merged: true },
    );
    assert.deepEqual(merged.violations, []);
    assert.deepEqual(
      merged.blobs.map((b) => b.id),
      [layers[0].meta.id, layers[1].meta.id],
      'only blobs holding chunks get a device',
    );
    assert.ok(merged.devices.every((d, i) => i === 0 || d.mappedBlkaddr > merged.devices[i - 1].mappedBlkaddr));
    for (const [i, l] of layers.entries()) {
      const entry: UpstreamBlobEntry = merged.blobs.find((b) => b.id === l.meta.id) ?? {
        ...merged.blobs[0],
        id: l.meta.id,
        chunkCount: 0,
        tocSize: l.meta.tocSize,
        tocDigest: l.meta.tocDigest.toString('hex'),
      };
      const u = checkBlob(l.blob, entry);
      assert.deepEqual(u.violations, [], `layer ${i} blob`);
      assert.ok(u.layerBootstrap, `layer ${i} inlines its bootstrap`);
      const lb = checkBootstrap(u.layerBootstrap!, { layer: true });
      assert.deepEqual(lb.violations, [], `layer ${i} bootstrap`);
      assert.deepEqual(
        lb.blobs.map((b) => b.id),
        l.meta.chunks.length ? [INLINED_BLOB_ID] : [],
        `layer ${i} names only its own blob`,
      );
      // The project's reader reads the chunk table as upstream's decoder does.
      assert.deepEqual(
        parseBlob(l.blob).chunks.map((c) => [
          c.compressedOffset,
          c.compressedSize,
          c.uncompressedOffset,
          c.uncompressedSize,
        ]),
        u.chunks.map((c) => [
          Number(c.compressedOffset),
          c.compressedSize,
          Number(c.uncompressedOffset),
          c.uncompressedSize,
        ]),
      );
    }
  });
});
