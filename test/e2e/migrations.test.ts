import { runMigrations } from '@accel/db';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MIGRATIONS } from '../../migrations';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { dropDatabase, services, testConfig } from '../support/env';

describe('database migrations', () => {
  const config = testConfig();
  after(() => dropDatabase(config));

  it('several processes starting at once migrate a fresh database exactly once', async () => {
    const results = await Promise.all([1, 2, 3].map(() => runMigrations(config.database)));
    assert.deepEqual(results.map((r) => r.length).sort(), [0, 0, MIGRATIONS.length]);
    const ds = new DataSource({ type: 'mysql', ...services.db, database: config.database.database });
    await ds.initialize();
    const tables = (await ds.query('SHOW TABLES')) as Record<string, string>[];
    await ds.destroy();
    assert.deepEqual(tables.map((t) => Object.values(t)[0]).sort(), [
      'audit',
      'conversion_task',
      'converted_layer',
      'job',
      'migrations',
      'personal_access_token',
      'registry',
      'revoked_session',
      'scheduler',
      'scheduler_cluster',
      'seed_peer',
      'user',
    ]);
  });

  it('`npm run migration:run` uses the service configuration and reports an up-to-date database', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'accel-mig-')), 'config.yaml');
    const db = config.database;
    writeFileSync(
      file,
      `auth:\n  encryptionKey: "${'k'.repeat(44)}"\ndatabase:\n  host: ${db.host}\n  port: ${db.port}\n  username: ${db.username}\n  password: "${db.password}"\n  database: ${db.database}\n`,
    );
    const script = join(__dirname, '..', '..', 'libs', 'db', 'src', 'migrate.js');
    const out = await promisify(execFile)(process.execPath, [script], { env: { ...process.env, ACCEL_CONFIG: file } });
    assert.equal(out.stdout.trim(), 'database is up to date');
  });
});
