import { buildConfig, deepMerge, envOverrides } from '@accel/config';
import { DRIVERS, DriverConfigError, alreadyAccelerated, parseDriver } from '@accel/convert';
import { ImageManifest } from '@accel/registry';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const KEY = 'k'.repeat(44);
const driver = (type: 'estargz' | 'nydus', config: Record<string, string> = {}) =>
  parseDriver(buildConfig({ auth: { encryptionKey: KEY }, converter: { driver: { type, config } } }).converter.driver);

describe('driver configuration (converter.driver, read once at boot)', () => {
  it('gives each driver typed settings with acceld defaults', () => {
    const e = driver('estargz');
    assert.deepEqual(e.options, { docker2oci: true, withReferrer: false });
    assert.deepEqual(
      { ...(e.settings as object), key: undefined },
      { chunkSize: 4 << 20, level: 9, prioritizedFiles: [], key: undefined },
    );
    const n = driver('nydus');
    assert.deepEqual(n.options, { docker2oci: false, withReferrer: false });
    assert.deepEqual(n.settings, {
      fsVersion: '6',
      compressor: 'zstd',
      chunkSize: 0x100000,
      digester: 'blake3',
      prefetchPatterns: ['/'],
      mergeManifest: false,
    });
  });

  it('reads acceld spellings: hex sizes, older aliases, newline lists, boolean words', () => {
    const n = driver('nydus', {
      rafs_compressor: 'lz4_block',
      fs_chunk_size: '0x10000',
      prefetch_patterns: '/usr/bin\n/etc\n',
      merge_manifest: 'yes',
      with_referrer: 'TRUE',
    });
    assert.equal((n.settings as { compressor: string }).compressor, 'lz4_block');
    assert.equal((n.settings as { chunkSize: number }).chunkSize, 0x10000);
    assert.deepEqual((n.settings as { prefetchPatterns: string[] }).prefetchPatterns, ['/usr/bin', '/etc']);
    assert.equal((n.settings as { mergeManifest: boolean }).mergeManifest, true);
    assert.equal(n.options.withReferrer, true);
    // An empty prefetch list is a choice (no prefetch table), not "unset".
    assert.deepEqual(
      (driver('nydus', { prefetch_patterns: '' }).settings as { prefetchPatterns: string[] }).prefetchPatterns,
      [],
    );
  });

  it('refuses a bad option at boot, naming the key and what it accepts', () => {
    const cases: ['estargz' | 'nydus', Record<string, string>, RegExp][] = [
      ['estargz', { chunk_size: '100' }, /converter\.driver\.config\.chunk_size must be an integer of at least 4096/],
      ['estargz', { compression_level: '10' }, /compression_level must be an integer from 1 to 9/],
      ['estargz', { compression: 'zstd' }, /compression zstd is not supported; use estargz/],
      ['nydus', { fs_chunk_size: '0x3000' }, /fs_chunk_size must be a power of two from 0x1000 to 0x1000000/],
      ['nydus', { fs_version: '5' }, /fs_version 5 is not supported; RAFS v6 is/],
      ['nydus', { compressor: 'gzip' }, /compressor gzip is not supported; use zstd, lz4_block, none/],
      ['nydus', { digester: 'md5' }, /digester md5 is not supported/],
      ['nydus', { merge_manifest: 'maybe' }, /merge_manifest must be true or false, not "maybe"/],
      ['estargz', { docker2oci: 'sometimes' }, /docker2oci must be true or false/],
    ];
    for (const [type, config, message] of cases)
      assert.throws(
        () => driver(type, config),
        (e: Error) => e instanceof DriverConfigError && message.test(e.message),
      );
  });

  it('lists options the driver does not read, so a typo is reported rather than silently ignored', () => {
    assert.deepEqual(driver('estargz', { chunk_size: '65536', merge_manifest: 'true', chunksize: '1' }).unread, [
      'merge_manifest',
      'chunksize',
    ]);
    assert.deepEqual(driver('nydus', { compressor: 'none', fs_chunk_size: '0x1000' }).unread, []);
  });

  it('eStargz settings that change the output change the reuse key; others do not', () => {
    const key = (c: Record<string, string>) => (driver('estargz', c).settings as { key: string }).key;
    assert.equal(key({}), key({ docker2oci: 'true', with_referrer: 'true' }));
    assert.notEqual(key({}), key({ chunk_size: '65536' }));
    assert.notEqual(key({}), key({ compression_level: '6' }));
    assert.notEqual(key({}), key({ prefetch_patterns: '/etc/hosts' }));
  });

  it('recognises images of every format as converted already, whatever driver runs', () => {
    const layer = (annotations: Record<string, string>) => ({
      mediaType: 'x',
      digest: 'sha256:1',
      size: 1,
      annotations,
    });
    const m = (layers: ReturnType<typeof layer>[]) =>
      ({ schemaVersion: 2, config: { mediaType: 'c', digest: 'sha256:c', size: 1 }, layers }) as ImageManifest;
    assert.match(
      alreadyAccelerated(m([layer({ 'containerd.io/snapshot/stargz/toc.digest': 'sha256:t' })]))!,
      /eStargz/,
    );
    assert.match(alreadyAccelerated(m([layer({ 'containerd.io/snapshot/nydus-bootstrap': 'true' })]))!, /Nydus/);
    assert.equal(alreadyAccelerated(m([layer({})])), undefined);
    assert.deepEqual(
      DRIVERS.map((d) => d.type),
      ['estargz', 'nydus'],
    );
  });

  it('every driver option can be set from the environment, as acceld spells it', () => {
    const env = {
      ACCEL__CONVERTER__DRIVER__TYPE: 'nydus',
      ACCEL__CONVERTER__DRIVER__CONFIG__MERGE_MANIFEST: 'true',
      ACCEL__CONVERTER__DRIVER__CONFIG__FS_CHUNK_SIZE: '0x20000',
      ACCEL__CONVERTER__DRIVER__CONFIG__DOCKER2OCI: 'true',
      'ACCEL__PROVIDER__SOURCE__HARBOR.EXAMPLE.COM__PLAIN_HTTP': 'true',
      'ACCEL__PROVIDER__SOURCE__HARBOR.EXAMPLE.COM__TOKEN_REALM': 'auth.example.com',
    };
    const config = buildConfig(deepMerge({ auth: { encryptionKey: KEY } }, envOverrides(env)));
    assert.deepEqual(Object.keys(config.converter.driver.config), ['merge_manifest', 'fs_chunk_size', 'docker2oci']);
    const n = parseDriver(config.converter.driver);
    assert.equal((n.settings as { mergeManifest: boolean }).mergeManifest, true);
    assert.equal((n.settings as { chunkSize: number }).chunkSize, 0x20000);
    assert.equal(n.options.docker2oci, true);
    assert.equal(config.provider.source['harbor.example.com'].plain_http, true);
    assert.equal(config.provider.source['harbor.example.com'].token_realm, 'auth.example.com');
  });
});
