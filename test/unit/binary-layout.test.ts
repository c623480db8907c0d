import { ErofsSuperBlock, RafsV6Blob, ascii, bytes, layout, u16, u32, u64 } from '@accel/convert';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('on-disk structures described once', () => {
  it('refuses a layout whose fields overlap or run past its size', () => {
    assert.throws(() => layout('bad', 8, { a: u32(0), b: u32(2) }), /bad\.a overlaps/);
    assert.throws(() => layout('bad', 8, { a: u64(4) }), /bad\.a overlaps/);
  });

  it('writes little-endian fields where upstream puts them, and reads them back', () => {
    const buf = Buffer.alloc(RafsV6Blob.size);
    RafsV6Blob.write(buf, 0, {
      blobId: 'ab'.repeat(32),
      chunkCount: 3,
      compressedSize: 2 ** 40 + 5,
      blobTocDigest: Buffer.alloc(32, 9),
    });
    // Offsets from nydus rafs/src/metadata/layout/v6.rs RafsV6Blob.
    assert.equal(buf.toString('ascii', 0, 64), 'ab'.repeat(32));
    assert.equal(buf.readUInt32LE(72), 3);
    assert.equal(buf.readBigUInt64LE(88), 2n ** 40n + 5n);
    assert.deepEqual(buf.subarray(136, 168), Buffer.alloc(32, 9));
    const back = RafsV6Blob.read(buf);
    assert.equal(back.compressedSize, 2 ** 40 + 5);
    assert.equal(back.blobId, 'ab'.repeat(32));
    const t = layout('t', 16, { id: ascii(0, 8), n: u16(8), raw: bytes(10, 4) });
    const small = Buffer.alloc(16);
    t.write(small, 0, { id: 'x', n: 0xbeef });
    assert.deepEqual(t.read(small), { id: 'x', n: 0xbeef, raw: Buffer.alloc(4) });
  });

  it('places the EROFS superblock fields as erofs_fs.h does', () => {
    const sb = Buffer.alloc(ErofsSuperBlock.size);
    ErofsSuperBlock.write(sb, 0, { magic: 0xe0f5e1e2, blkszbits: 12, rootNid: 36, metaBlkaddr: 1, devtSlotoff: 11 });
    assert.equal(sb.readUInt32LE(0), 0xe0f5e1e2);
    assert.equal(sb[12], 12);
    assert.equal(sb.readUInt16LE(14), 36);
    assert.equal(sb.readUInt32LE(40), 1);
    assert.equal(sb.readUInt16LE(88), 11);
  });
});
