import { ConfigError, GatewayConfig, envOverrides, loadConfig } from '@accel/config';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const KEY = 'k'.repeat(44);

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'accel-cfg-')), 'config.yaml');
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('fills defaults and applies ACCEL__ environment overrides', () => {
    const c = loadConfig(file(`auth:\n  encryptionKey: ${KEY}\ndatabase:\n  host: db.internal\n`), {
      ACCEL__DATABASE__PORT: '3307',
      ACCEL__AUTH__ALLOW_ANONYMOUS: 'true',
    });
    assert.equal(c.database.host, 'db.internal');
    assert.equal(c.database.port, 3307);
    assert.equal(c.auth.allowAnonymous, true);
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.conversionPort, 2077);
    assert.deepEqual(c.preheat.defaultPlatforms, ['linux/amd64']);
  });

  it('names the bad key', () => {
    assert.throws(
      () => loadConfig(file(`auth:\n  encryptionKey: ${KEY}\nserver:\n  port: eighty\n`), {}),
      (e: Error) => e instanceof ConfigError && /server\.port/.test(e.message),
    );
    assert.throws(
      () => loadConfig(file(`auth:\n  encryptionKey: ${KEY}\nredis:\n  prot: 1\n`), {}),
      (e: Error) => /redis\.prot/.test(e.message),
    );
    assert.throws(
      () => loadConfig(file('auth: {}\n'), {}),
      (e: Error) => /auth\.encryptionKey/.test(e.message),
    );
  });

  it('server.workerQueues: both queues by default, one from the environment, an unknown or empty list refused', () => {
    const base = `auth:\n  encryptionKey: ${KEY}\n`;
    assert.deepEqual(loadConfig(file(base), {}).server.workerQueues, ['preheat', 'convert']);
    assert.deepEqual(loadConfig(file(base), { ACCEL__SERVER__WORKER_QUEUES: '[convert]' }).server.workerQueues, [
      'convert',
    ]);
    for (const bad of ['[presheat]', '[]', 'preheat'])
      assert.throws(
        () => loadConfig(file(base), { ACCEL__SERVER__WORKER_QUEUES: bad }),
        (e: Error) => e instanceof ConfigError && /server\.workerQueues/.test(e.message),
        bad,
      );
  });

  it('rejects a file that is not YAML with a clear message', () => {
    assert.throws(
      () => loadConfig(file('server: [1, 2'), {}),
      (e: Error) => e instanceof ConfigError && /not valid YAML/.test(e.message),
    );
    assert.throws(
      () => loadConfig('/nonexistent/accel.yaml', {}),
      (e: Error) => /cannot read configuration file/.test(e.message),
    );
  });

  it('every scalar key of every section can be set from the environment, camelCase and snake_case keys alike', () => {
    const leaves: string[][] = [];
    const walk = (node: Record<string, unknown>, path: string[]) => {
      for (const [k, v] of Object.entries(node)) {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...path, k]);
        else if (['string', 'number', 'boolean'].includes(typeof v)) leaves.push([...path, k]);
      }
    };
    walk(new GatewayConfig() as unknown as Record<string, unknown>, []);
    assert.ok(
      leaves.some((l) => l.join('.') === 'provider.work_dir') &&
        leaves.some((l) => l.join('.') === 'redis.enqueueTimeoutMs'),
    );
    const envName = (path: string[]) =>
      `ACCEL__${path.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')}`;
    for (const path of leaves) {
      const over = envOverrides({ [envName(path)]: 'x' });
      let node: unknown = over;
      for (const k of path) node = (node as Record<string, unknown>)?.[k];
      assert.equal(node, 'x', `${envName(path)} sets ${path.join('.')}`);
    }
    const c = loadConfig(file(`auth:\n  encryptionKey: ${KEY}\n`), {
      ACCEL__PROVIDER__WORK_DIR: '/var/lib/accel',
      ACCEL__CONVERTER__PREHEAT__CLUSTER_IDS: '[1, 2]',
      ACCEL__REDIS__ENQUEUE_TIMEOUT_MS: '750',
      ACCEL__PREHEAT__PEER_IDLE_TIMEOUT_MS: '5000',
      ACCEL__SERVER__SHUTDOWN_GRACE_SECONDS: '3',
    });
    assert.equal(c.provider.work_dir, '/var/lib/accel');
    assert.deepEqual(c.converter.preheat.cluster_ids, [1, 2]);
    assert.equal(c.redis.enqueueTimeoutMs, 750);
    assert.equal(c.preheat.peerIdleTimeoutMs, 5000);
    assert.equal(c.server.shutdownGraceSeconds, 3);
  });
});
