import { buildConfig } from '@accel/config';
import { RegistryAccess, parseChallenge, parseManifestUrl, platformSelection } from '@accel/registry';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const allow = (patterns: string[]) =>
  new RegistryAccess(buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, registry: { allowed: patterns } }));

describe('registry allow-list', () => {
  it('matches host, port and wildcard patterns, with default ports by scheme', () => {
    const a = allow(['harbor.example.com', '*.corp.example', '127.0.0.1:*', 'reg.example.com:5000']);
    assert.ok(a.isAllowed('https', 'harbor.example.com'));
    assert.ok(a.isAllowed('https', 'harbor.example.com:443'));
    assert.ok(a.isAllowed('http', 'harbor.example.com'));
    assert.ok(!a.isAllowed('https', 'harbor.example.com:8443'));
    assert.ok(a.isAllowed('https', 'r1.corp.example'));
    assert.ok(!a.isAllowed('https', 'corp.example.evil.com'));
    assert.ok(a.isAllowed('http', '127.0.0.1:5999'));
    assert.ok(a.isAllowed('http', 'reg.example.com:5000'));
    assert.ok(!a.isAllowed('http', 'reg.example.com'));
    assert.ok(!a.isAllowed('http', '169.254.169.254'));
  });

  it('refuses everything when nothing is configured, and non-HTTP schemes always', () => {
    assert.throws(
      () => allow([]).assertAllowed('https://harbor.example.com/v2/'),
      /not in the gateway's allowed registries/,
    );
    assert.throws(() => allow(['*']).assertAllowed('file:///etc/passwd'), /scheme file is not allowed/);
  });
});

describe('manifest URLs and challenges', () => {
  it('parses Harbor manifest URLs and rejects others', () => {
    assert.deepEqual(parseManifestUrl('https://harbor.example.com/v2/library/nginx/manifests/1.27'), {
      scheme: 'https',
      host: 'harbor.example.com',
      repository: 'library/nginx',
      reference: '1.27',
    });
    assert.equal(parseManifestUrl('http://h:5000/v2/a/b/c/manifests/sha256:' + 'a'.repeat(64)).repository, 'a/b/c');
    for (const bad of [
      'https://h/v2/x/blobs/sha256:abc',
      'ftp://h/v2/x/manifests/t',
      'https://h/v2/UPPER/manifests/t',
      'https://h/v2/x/manifests/bad tag',
    ]) {
      assert.throws(() => parseManifestUrl(bad), /manifest URL|invalid/);
    }
  });

  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(
      parseChallenge('Bearer realm="https://h/service/token",service="harbor-registry",scope="repository:a/b:pull"'),
      {
        scheme: 'bearer',
        params: { realm: 'https://h/service/token', service: 'harbor-registry', scope: 'repository:a/b:pull' },
      },
    );
    assert.deepEqual(parseChallenge('Basic realm="basic-realm"'), {
      scheme: 'basic',
      params: { realm: 'basic-realm' },
    });
    assert.equal(parseChallenge(undefined), undefined);
  });

  it('selects platforms, or all of them', () => {
    assert.equal(platformSelection(['all']), 'all');
    assert.deepEqual(platformSelection(['linux/arm/v7']), [{ os: 'linux', architecture: 'arm', variant: 'v7' }]);
    assert.throws(() => platformSelection(['linux']), /os\/arch/);
  });
});
