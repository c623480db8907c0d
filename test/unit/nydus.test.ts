import {
  BlobSink,
  FsTree,
  NydusBlob,
  expandBlob,
  parseBlob,
  readChunk,
  writeLayerBlob,
  writeRafsV6,
} from '@accel/convert';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SourceFile, richLayerFiles, tarOf } from '../support/layers';
import { overlay, scan } from '../support/rootfs';

const CHUNK = 64 * 1024;
/** A blob sink that keeps copies of what it is given. */
const collect = (parts: Buffer[]): BlobSink => ({ write: async (d) => void parts.push(Buffer.from(d)) });

const opts = { chunkSize: CHUNK, compressor: 'zstd' as const, digester: 'blake3' as const };

async function blobOf(files: SourceFile[], tree: FsTree, index: number): Promise<{ blob: Buffer; meta: NydusBlob }> {
  const parts: Buffer[] = [];
  const out = collect(parts);
  const meta = await writeLayerBlob(Readable.from([await tarOf(files)]), tree, index, out, opts);
  return { blob: Buffer.concat(parts), meta };
}

/** What fsck.erofs extracts from a bootstrap and the one blob it maps. */
async function extracted(blob: Buffer, boot: Buffer): Promise<ReturnType<typeof scan>> {
  const dir = mkdtempSync(join(tmpdir(), 'accel-nydus-fsck-'));
  writeFileSync(join(dir, 'blob0'), expandBlob(blob));
  writeFileSync(join(dir, 'image.boot'), boot);
  await promisify(execFile)('fsck.erofs', [
    `--device=${join(dir, 'blob0')}`,
    `--extract=${join(dir, 'out')}`,
    join(dir, 'image.boot'),
  ]);
  return scan(join(dir, 'out'));
}

describe('Nydus RAFS v6 (native, verified with erofs-utils)', () => {
  const lower = richLayerFiles(CHUNK);
  const dup = randomBytes(CHUNK * 3);
  const upper: SourceFile[] = [
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/.wh.hostname', type: 'file', content: Buffer.alloc(0) },
    { name: 'var/cache/', type: 'directory', mode: 0o755 },
    // Sorted tars put names below "." ahead of the opaque marker: it hides only the lower layers' entries.
    { name: 'var/cache/+early', type: 'file', content: Buffer.from('before the marker\n'), mode: 0o644 },
    { name: 'var/cache/.wh..wh..opq', type: 'file', content: Buffer.alloc(0) },
    { name: 'var/cache/fresh', type: 'file', content: Buffer.from('new in upper\n'), mode: 0o600, uid: 7, gid: 8 },
    { name: 'opt/dup-a', type: 'file', content: dup, mode: 0o644 },
    { name: 'opt/dup-b', type: 'file', content: dup, mode: 0o644 },
    // Names that sort before "." and "..": a directory's entries are in byte order, the dots among them.
    { name: 'opt/!first', type: 'file', content: Buffer.from('!\n'), mode: 0o644 },
    { name: 'opt/-dash', type: 'file', content: Buffer.from('-\n'), mode: 0o644 },
    { name: 'opt/+plus', type: 'file', content: Buffer.from('+\n'), mode: 0o644 },
    { name: 'usr/bin/tool-copy', type: 'file', content: Buffer.from('replaced\n'), mode: 0o755 },
    { name: 'run/', type: 'directory', mode: 0o755 },
    { name: 'run/.wh.pipe', type: 'file', content: Buffer.alloc(0) },
  ];

  it('fsck.erofs extracts exactly the merged rootfs from the bootstrap and the expanded blobs', async () => {
    const tree = new FsTree();
    const a = await blobOf(lower, tree, 0);
    const b = await blobOf(upper, tree, 1);
    const boot = writeRafsV6(tree, [a.meta, b.meta], { ...opts, prefetchPatterns: ['/', '/usr/bin/tool'] });
    const dir = mkdtempSync(join(tmpdir(), 'accel-nydus-'));
    writeFileSync(join(dir, 'image.boot'), boot);
    writeFileSync(join(dir, 'blob0'), expandBlob(a.blob));
    writeFileSync(join(dir, 'blob1'), expandBlob(b.blob));
    const out = join(dir, 'rootfs');
    await promisify(execFile)('fsck.erofs', [
      `--device=${join(dir, 'blob0')}`,
      `--device=${join(dir, 'blob1')}`,
      `--extract=${out}`,
      join(dir, 'image.boot'),
    ]);
    const got = scan(out);
    const want = overlay([lower, upper]);
    for (const [p, e] of want) {
      const g = got.get(p);
      assert.ok(g, `${p} extracted`);
      // fsck.erofs chowns after chmod, which drops setuid/setgid bits: those are checked below.
      assert.deepEqual({ ...g, mode: g.mode & 0o777 }, { ...e, mode: e.mode & 0o777 }, p);
    }
    assert.deepEqual(
      [...got.keys()].filter((p) => !want.has(p)),
      [],
      'nothing extra (whiteouts applied)',
    );
    const shown = await promisify(execFile)('dump.erofs', [
      `--device=${join(dir, 'blob0')}`,
      `--device=${join(dir, 'blob1')}`,
      '--path=/usr/bin/tool',
      join(dir, 'image.boot'),
    ]);
    const nid = Number(/NID: (\d+)/.exec(shown.stdout)![1]);
    // The sub-second mtime is kept (extended inode i_mtime_nsec), as erofs-utils reads it.
    const subsecond = await promisify(execFile)('dump.erofs', [
      `--device=${join(dir, 'blob0')}`,
      `--device=${join(dir, 'blob1')}`,
      '--path=/etc/subsecond',
      join(dir, 'image.boot'),
    ]);
    assert.match(subsecond.stdout, /Timestamp: 2023-11-14 22:13:20\.750000000/);
    assert.match(shown.stdout, /Links: 2/, 'hard link shares the inode');
    const metaBlkaddr = boot.readUInt32LE(1024 + 40);
    // Prefetch table: one u32 nid per pattern, the root's for "/" and the file's for a path.
    const prefetchOffset = Number(boot.readBigUInt64LE(1152 + 40));
    assert.equal(boot.readUInt32LE(1152 + 48), 8);
    assert.equal(boot.readUInt32LE(prefetchOffset), boot.readUInt16LE(1024 + 14), 'root nid for "/"');
    assert.equal(boot.readUInt32LE(prefetchOffset + 4), nid, 'the nid of /usr/bin/tool');
    // The hard link's own header (0644 in this layer) applies to the shared inode, as containerd's unpack does.
    assert.equal(
      boot.readUInt16LE(metaBlkaddr * 4096 + nid * 32 + 4),
      0o100644,
      "the shared inode takes the link entry's mode",
    );
    // Directory and symlink tails sit beside their inode (FLAT_INLINE = 2) unless they cannot fit one block with it.
    const layoutOf = async (path: string) => {
      const { stdout } = await promisify(execFile)('dump.erofs', [
        `--device=${join(dir, 'blob0')}`,
        `--device=${join(dir, 'blob1')}`,
        `--path=${path}`,
        join(dir, 'image.boot'),
      ]);
      return Number(/Layout: (\d+)/.exec(stdout)![1]);
    };
    assert.deepEqual(
      await Promise.all(['/etc', '/many', '/usr/bin/sh', '/many/target-of-2500', '/many/target-of-4050'].map(layoutOf)),
      [2, 2, 2, 2, 0],
    );
    // erofs-utils finds a name by binary search over the sorted entries: every name must be where the order puts it.
    for (const path of ['/opt/!first', '/opt/+plus', '/opt/-dash', '/opt/dup-a', '/opt/dup-b'])
      assert.ok((await layoutOf(path)) >= 0, `${path} found by name`);
  });

  it("inlines each layer's own bootstrap (whiteouts kept as files) that fsck.erofs can read", async () => {
    const tree = new FsTree();
    const a = await blobOf(lower, tree, 0);
    const parts: Buffer[] = [];
    const out = collect(parts);
    await writeLayerBlob(Readable.from([await tarOf(upper)]), tree, 1, out, opts);
    const b = Buffer.concat(parts);
    const { decompress: zstdDecompress } = await import('zstd-napi');
    const dir = mkdtempSync(join(tmpdir(), 'accel-nydus-layer-'));
    writeFileSync(join(dir, 'blob0'), expandBlob(a.blob));
    writeFileSync(join(dir, 'blob1'), expandBlob(b));
    const bootOf = (blob: Buffer) => {
      const e = parseBlob(blob).toc.find((t) => t.name === 'image.boot')!;
      const boot = zstdDecompress(blob.subarray(e.compressedOffset, e.compressedOffset + e.compressedSize));
      assert.equal(createHash('sha256').update(boot).digest('hex'), e.uncompressedDigest.toString('hex'));
      return boot;
    };
    writeFileSync(join(dir, 'lower.boot'), bootOf(a.blob));
    writeFileSync(join(dir, 'upper.boot'), bootOf(b));
    await promisify(execFile)('fsck.erofs', [
      `--device=${join(dir, 'blob0')}`,
      `--extract=${join(dir, 'lower')}`,
      join(dir, 'lower.boot'),
    ]);
    const lowerTree = scan(join(dir, 'lower'));
    for (const [p, e] of overlay([lower]))
      assert.deepEqual(
        { ...lowerTree.get(p)!, mode: lowerTree.get(p)!.mode & 0o777 },
        { ...e, mode: e.mode & 0o777 },
        p,
      );
    // A layer's bootstrap maps only its own blob (device 1).
    await promisify(execFile)('fsck.erofs', [
      `--device=${join(dir, 'blob1')}`,
      `--extract=${join(dir, 'upper')}`,
      join(dir, 'upper.boot'),
    ]);
    const upperTree = scan(join(dir, 'upper'));
    assert.equal(upperTree.get('etc/.wh.hostname')?.type, 'file', 'whiteouts stay files in the layer bootstrap');
    assert.equal(upperTree.get('var/cache/.wh..wh..opq')?.type, 'file');
    assert.equal(upperTree.get('opt/dup-b')?.sha, createHash('sha256').update(dup).digest('hex'));
  });

  // Other compressors, and chunk sizes at both ends: many 4 KiB chunks per worker batch, or one 16 MiB chunk per batch.
  const variants = [
    { compressor: 'lz4_block' as const },
    { compressor: 'none' as const },
    { chunkSize: 4096 },
    { chunkSize: 16 << 20 },
  ];
  for (const variant of variants) {
    const name = Object.entries(variant)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    it(`with ${name} the blobs expand and fsck.erofs extracts the same tree`, async () => {
      const o = { ...opts, ...variant };
      const compressor = o.compressor;
      const tree = new FsTree();
      const parts: Buffer[] = [];
      const out = collect(parts);
      const meta = await writeLayerBlob(Readable.from([await tarOf(lower)]), tree, 0, out, o);
      const blob = Buffer.concat(parts);
      assert.equal(parseBlob(blob).compressor, compressor);
      const got = await extracted(blob, writeRafsV6(tree, [meta], o));
      for (const [p, e] of overlay([lower]))
        assert.deepEqual({ ...got.get(p)!, mode: got.get(p)!.mode & 0o777 }, { ...e, mode: e.mode & 0o777 }, p);
    });
  }

  it('fails, rather than stalls, on a corrupt or truncated gzip layer', async () => {
    const { gzipSync } = await import('node:zlib');
    const { tarStreamOf, asLayerError, LayerFormatError } = await import('@accel/convert');
    const data = gzipSync(await tarOf(upper));
    for (const bad of [
      Buffer.concat([data.subarray(0, 60), Buffer.alloc(200, 0x41)]),
      data.subarray(0, data.length / 2),
    ]) {
      const run = async () => {
        const out = collect([]);
        try {
          await writeLayerBlob(await tarStreamOf(Readable.from([bad])), new FsTree(), 0, out, opts);
        } catch (e) {
          throw asLayerError(e);
        }
      };
      await assert.rejects(run(), LayerFormatError);
    }
  });

  it("the bootstrap's chunk table names each chunk by the BLAKE3 of its data, in every blob", async () => {
    const tree = new FsTree();
    const layers = [await blobOf(lower, tree, 0), await blobOf(upper, tree, 1)];
    const boot = writeRafsV6(
      tree,
      layers.map((l) => l.meta),
      opts,
    );
    // RafsV6SuperBlockExt at 1152: chunk_table_offset u64 at +24, chunk_table_size u64 at +32;
    // RafsV5ChunkInfo records of 80 bytes: block_id[32], blob_index u32, ..., index u32 at +72.
    const tableAt = Number(boot.readBigUInt64LE(1152 + 24));
    const count = Number(boot.readBigUInt64LE(1152 + 32)) / 80;
    assert.equal(
      count,
      layers.reduce((n, l) => n + parseBlob(l.blob).chunks.length, 0),
    );
    const { createBLAKE3 } = await import('hash-wasm');
    const h = await createBLAKE3();
    for (let n = 0; n < count; n++) {
      const at = tableAt + n * 80;
      const blob = layers[boot.readUInt32LE(at + 32)].blob;
      const chunk = parseBlob(blob).chunks[boot.readUInt32LE(at + 72)];
      h.init();
      h.update(readChunk(blob, chunk));
      assert.equal(
        boot.subarray(at, at + 32).toString('hex'),
        Buffer.from(h.digest('binary')).toString('hex'),
        `chunk ${n}`,
      );
    }
  });

  it('finds repeats among thousands of chunks, and fsck.erofs reads every file back', async () => {
    // 4 KiB chunks, 6,000 files of 1–3 chunks; every fifth file repeats an earlier one, whose
    // chunks were stored anywhere from the first to the latest thousand.
    const o = { ...opts, chunkSize: 4096 };
    const unique: Buffer[] = [];
    const files: SourceFile[] = [{ name: 'data/', type: 'directory', mode: 0o755 }];
    for (let i = 0; i < 6000; i++) {
      const content = i % 5 === 4 ? unique[(i * 7919) % unique.length] : randomBytes(4096 * (1 + (i % 3)) - (i % 7));
      if (i % 5 !== 4) unique.push(content);
      files.push({ name: `data/f${i}`, type: 'file', content, mode: 0o644 });
    }
    const tree = new FsTree();
    const parts: Buffer[] = [];
    const meta = await writeLayerBlob(Readable.from([await tarOf(files)]), tree, 0, collect(parts), o);
    const stored = unique.reduce((n, c) => n + Math.ceil(c.length / 4096), 0);
    assert.equal(meta.chunks.length, stored, 'each distinct chunk stored once');
    const got = await extracted(Buffer.concat(parts), writeRafsV6(tree, [meta], o));
    for (const [p, e] of overlay([files])) assert.deepEqual([got.get(p)?.size, got.get(p)?.sha], [e.size, e.sha], p);
  });

  it('reads a layer through reused gunzip chunks into the same blob as through zlib, which fsck.erofs reads back', async () => {
    // 12 MiB in 3,000 files (long PAX names among them), text and random: a dozen 1 MiB gunzip chunks.
    const { gzipSync } = await import('node:zlib');
    const { NYDUS_READ_AHEAD, isRecycling, pickGunzip, withLayerTar, zlibGunzip } = await import('@accel/convert');
    const files: SourceFile[] = [{ name: 'data/', type: 'directory', mode: 0o755 }];
    for (let i = 0; i < 3000; i++) {
      const size = 1 + ((i * 7919) % 8000);
      const content = i % 2 ? randomBytes(size) : Buffer.from(`line ${i} `.repeat(size / 8));
      const name = i % 10 ? `data/f${i}` : `data/${'long-'.repeat(30)}${i}`;
      files.push({ name, type: 'file', content, mode: 0o644 });
    }
    const tar = await tarOf(files);
    const layer = gzipSync(tar, { level: 1 });
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    const isal = pickGunzip('isal').engine;
    let recycled = 0;
    const counting = {
      name: isal.name,
      createGunzip: (size: number, lean?: boolean) => {
        const gz = isal.createGunzip(size, lean);
        assert.ok(isRecycling(gz));
        const recycle = gz.recycle.bind(gz);
        // Overwritten the moment it is handed back: a chunk given back too early shows in the blob.
        gz.recycle = (c) => (recycled++, recycle(c.fill(0x5a)));
        return gz;
      },
    };
    const convert = async (engine: typeof zlibGunzip) => {
      const tree = new FsTree();
      const parts: Buffer[] = [];
      const meta = await withLayerTar(
        Readable.from([layer]),
        (t) => writeLayerBlob(t, tree, 0, collect(parts), opts),
        diffId,
        { ...NYDUS_READ_AHEAD, engine },
      );
      return { blob: Buffer.concat(parts), boot: writeRafsV6(tree, [meta], opts) };
    };
    const reused = await convert(counting);
    const plain = await convert(zlibGunzip);
    assert.ok(recycled >= 8, `${recycled} chunks reused`);
    assert.ok(reused.blob.equals(plain.blob) && reused.boot.equals(plain.boot), 'the same blob and bootstrap');
    const got = await extracted(reused.blob, reused.boot);
    for (const [p, e] of overlay([files])) assert.deepEqual([got.get(p)?.size, got.get(p)?.sha], [e.size, e.sha], p);
  });

  it('puts the bootstrap in a gzip layer GNU tar lists, named by its diff_id, without stalling the event loop', async () => {
    const { bootstrapLayer } = await import('@accel/convert');
    const { gunzipSync } = await import('node:zlib');
    const tree = new FsTree();
    const { blob, meta } = await blobOf(lower, tree, 0);
    const boot = writeRafsV6(tree, [meta], opts);
    // Tens of MB at a large layer: compressed off the event loop, which keeps its timers running.
    const big = Buffer.concat([boot, randomBytes(12 << 20)]);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const layer = await bootstrapLayer(big, [{ id: meta.id, meta: meta.blobMeta }]);
    clearInterval(timer);
    assert.ok(ticks >= 3, `the event loop ran ${ticks} timers while the layer was compressed`);
    const tar = gunzipSync(layer.data);
    assert.equal(layer.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
    const dir = mkdtempSync(join(tmpdir(), 'accel-nydus-bootlayer-'));
    writeFileSync(join(dir, 'layer.tar.gz'), layer.data);
    const { stdout } = await promisify(execFile)('tar', ['-tzvf', join(dir, 'layer.tar.gz')]);
    const listed = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(2, 3).concat(l.split(/\s+/).at(-1)!));
    assert.deepEqual(listed, [
      ['0', 'image/'],
      [String(big.length), 'image/image.boot'],
      [String(meta.blobMeta.length), `image/${meta.id}.blob.meta`],
    ]);
    assert.ok(blob.length > 0);
  });

  it('stores repeated content once and every chunk verifies against its digest', async () => {
    const tree = new FsTree();
    const { blob, meta } = await blobOf(upper, tree, 0);
    assert.equal(meta.id, createHash('sha256').update(blob).digest('hex'), 'blob id = sha256 of the blob');
    const parsed = parseBlob(blob);
    assert.deepEqual(
      parsed.toc.map((e) => e.name),
      ['image.blob', 'blob.meta', 'blob.meta.header', 'blob.digest', 'image.boot'],
    );
    assert.equal(parsed.chunks.length, parsed.digests.length);
    // dup-a and dup-b: 3 chunks of identical content (plus small files) → stored once.
    const dupChunks = parsed.chunks.filter((c) => c.uncompressedSize === CHUNK);
    assert.equal(dupChunks.length, 3);
    const { createBLAKE3 } = await import('hash-wasm');
    const h = await createBLAKE3();
    parsed.chunks.forEach((c, i) => {
      h.init();
      h.update(readChunk(blob, c));
      assert.equal(Buffer.from(h.digest('binary')).toString('hex'), parsed.digests[i].toString('hex'), `chunk ${i}`);
      assert.equal(c.uncompressedOffset % 4096, 0);
    });
  });
});
