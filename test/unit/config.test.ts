import { ConfigError, loadConfig } from '@accel/config';
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
    const c = loadConfig(file(`auth:\n  encryptionKey: ${KEY}\ndatabase:\n  host: db.internal\n`), { ACCEL__DATABASE__PORT: '3307', ACCEL__AUTH__ALLOW_ANONYMOUS: 'true' });
    assert.equal(c.database.host, 'db.internal');
    assert.equal(c.database.port, 3307);
    assert.equal(c.auth.allowAnonymous, true);
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.conversionPort, 2077);
    assert.deepEqual(c.preheat.defaultPlatforms, ['linux/amd64']);
  });

  it('names the bad key', () => {
    assert.throws(() => loadConfig(file(`auth:\n  encryptionKey: ${KEY}\nserver:\n  port: eighty\n`), {}), (e: Error) => e instanceof ConfigError && /server\.port/.test(e.message));
    assert.throws(() => loadConfig(file(`auth:\n  encryptionKey: ${KEY}\nredis:\n  prot: 1\n`), {}), (e: Error) => /redis\.prot/.test(e.message));
    assert.throws(() => loadConfig(file('auth: {}\n'), {}), (e: Error) => /auth\.encryptionKey/.test(e.message));
  });

  it('rejects a file that is not YAML with a clear message', () => {
    assert.throws(() => loadConfig(file('server: [1, 2'), {}), (e: Error) => e instanceof ConfigError && /not valid YAML/.test(e.message));
    assert.throws(() => loadConfig('/nonexistent/accel.yaml', {}), (e: Error) => /cannot read configuration file/.test(e.message));
  });
});
