import {
  computeTaskId,
  DEFAULT_FILTERED_QUERY_PARAMS,
  HashRing,
  normalizeTaskUrl,
  splitFilteredQueryParams,
} from '@accel/dragonfly';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { describe, it } from 'node:test';

// Upstream vectors from the Rust client (id_generator) and Go manager (pkg/idgen) tests.
describe('Dragonfly task id', () => {
  const vectors: [Parameters<typeof computeTaskId>[0], string][] = [
    [
      { url: 'https://example.com', tag: 'foo', application: 'bar', revision: 'v1.0', pieceLength: 1024 },
      '5844f27a257287e9b734256bb25603d8005422ced8c0377f15063ec11963b25f',
    ],
    [
      { url: 'https://example.com', tag: 'foo', application: 'bar' },
      '06408fbf247ddaca478f8cb9565fe5591c28efd0994b8fea80a6a87d3203c5ca',
    ],
    [{ url: 'https://example.com', tag: 'foo' }, '3c3f230ef9f191dd2821510346a7bc138e4894bee9aee184ba250a3040701d2a'],
    [
      { url: 'https://example.com', application: 'bar' },
      'c9f9261b7305c24371244f9f149f5d4589ed601348fdf22d7f6f4b10658fdba2',
    ],
    [
      { url: 'https://example.com', pieceLength: 1024 },
      '9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8',
    ],
    [
      { url: 'https://example.com?foo=foo&bar=bar', filteredQueryParams: ['foo', 'bar'] },
      '457b4328cde278e422c9e243f7bfd1e97f511fec43a80f535cf6b0ef6b086776',
    ],
    [
      { url: 'https://example.com', revision: 'v1.0' },
      'b171331534b80e0bf91da38ebbfcdbf4d177898f4b9beac44f14733e3f004d4e',
    ],
    [
      { url: 'x', contentForCalculatingTaskId: 'This is a test file' },
      'e2d0fe1585a63ec6009c8016ff8dda8b17719a637405a4e23c0ff81339148249',
    ],
  ];
  for (const [input, want] of vectors) {
    it(`matches the upstream vector ${want.slice(0, 8)}`, () => assert.equal(computeTaskId(input), want));
  }

  it('normalises URLs as the Rust url crate does', () => {
    assert.equal(normalizeTaskUrl('https://example.com?foo=foo&bar=bar', ['foo']), 'https://example.com/?bar=bar');
    assert.equal(normalizeTaskUrl('https://example.com/a/b?x=a%20b'), 'https://example.com/a/b?x=a+b');
    assert.equal(normalizeTaskUrl('https://EXAMPLE.com:443/a'), 'https://example.com/a');
    assert.equal(normalizeTaskUrl('https://example.com/'), 'https://example.com');
  });

  it('matches the non-upstream vectors for signed S3 URLs with the default filter', () => {
    const url =
      'https://bucket.s3.amazonaws.com/models/a.bin?X-Amz-Date=20250101T000000Z&X-Amz-Signature=abc&versionId=7';
    assert.equal(
      computeTaskId({ url, filteredQueryParams: DEFAULT_FILTERED_QUERY_PARAMS }),
      '007135cc9aa0e1e1a3bfc479df5da72776fae30c9ef916488c53934c4eeb9b2e',
    );
    assert.equal(
      computeTaskId({
        url,
        filteredQueryParams: DEFAULT_FILTERED_QUERY_PARAMS,
        tag: 't1',
        application: 'app1',
        pieceLength: 8388608,
      }),
      'c431888ea802af264c96a73b4da31ddd9c5f97c90dddb43870d25b2cfe28b14f',
    );
    assert.equal(
      computeTaskId({ url: 'https://example.com?foo=foo&bar=bar', filteredQueryParams: ['foo'] }),
      '83db616a99d4fdef71e124faf8a89728a249cbe4a0d107c4e78f876e7fe2c754',
    );
    assert.equal(
      computeTaskId({ url: 'https://example.com/a/b?x=a%20b' }),
      'fb0de789751504c9360dd058e85c890ab8c1062425ce7914f102f43d49d224bd',
    );
    assert.equal(
      computeTaskId({ url: 'https://EXAMPLE.com:443/a' }),
      'c058b4454fdd8b341e618fe172efddeac19e1bb263022380725d72ed62285d61',
    );
  });

  it('splits the manager filter string as strings.Split does', () => {
    assert.deepEqual(splitFilteredQueryParams(''), []);
    assert.deepEqual(splitFilteredQueryParams('a&b&a'), ['a', 'b', 'a']);
  });
});

describe('seed peer hash ring', () => {
  const peers = ['10.0.0.1:4000', '10.0.0.2:4000', '10.0.0.3:4000'];

  it('places 20 points per member and picks the first point strictly after the key', () => {
    const ring = new HashRing(peers, (p) => p);
    assert.equal(ring.size, 60);
    const key = 'some-task-id';
    const h = crc32(key);
    const points = peers
      .flatMap((p) => Array.from({ length: 20 }, (_, i) => ({ h: crc32(`${i}${p}`), p })))
      .sort((a, b) => a.h - b.h);
    const want = (points.find((x) => x.h > h) ?? points[0]).p;
    assert.equal(ring.get(key), want);
  });

  it('moves only the keys of a removed member', () => {
    const full = new HashRing(peers, (p) => p);
    const less = new HashRing(peers.slice(0, 2), (p) => p);
    let moved = 0;
    for (let i = 0; i < 300; i++) {
      const k = `task-${i}`;
      if (full.get(k) !== peers[2] && full.get(k) !== less.get(k)) moved++;
    }
    assert.equal(moved, 0);
  });

  it('spreads keys over every member', () => {
    const ring = new HashRing(peers, (p) => p);
    const seen = new Set(Array.from({ length: 200 }, (_, i) => ring.get(`k${i}`)));
    assert.equal(seen.size, 3);
  });
});
