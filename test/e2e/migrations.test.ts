import { dataSourceOptions, ensureDatabase, runMigrations } from '@accel/db';
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
      'peer',
      'personal_access_token',
      'registry',
      'revoked_session',
      'scheduler',
      'scheduler_cluster',
      'seed_peer',
      'user',
    ]);
  });

  it('converted layers recorded before the format-neutral cache keep their eStargz annotations, both ways', async () => {
    const db = testConfig().database;
    const before = MIGRATIONS.findIndex((m) => m.name === 'LayerAnnotations1764500000000');
    assert.ok(before > 0);
    await ensureDatabase(db);
    const open = async (migrations: typeof MIGRATIONS) => {
      const ds = new DataSource({ ...dataSourceOptions(db), entities: [], migrations });
      await ds.initialize();
      return ds;
    };
    try {
      const old = await open(MIGRATIONS.slice(0, before));
      await old.runMigrations();
      await old.query(
        `INSERT INTO converted_layer (source_digest, settings_key, registry, repository, target_digest, target_size, diff_id, toc_digest, uncompressed_size)
         VALUES ('sha256:src', '${'a'.repeat(64)}', 'r:5000', 'lib/app', 'sha256:out', 10, 'sha256:diff', 'sha256:toc', 123456789012)`,
      );
      await old.destroy();
      const ds = await open(MIGRATIONS);
      await ds.runMigrations();
      const [row] = (await ds.query('SELECT annotations FROM converted_layer')) as { annotations: string }[];
      assert.deepEqual(JSON.parse(row.annotations), {
        'containerd.io/snapshot/stargz/toc.digest': 'sha256:toc',
        'io.containers.estargz.uncompressed-size': '123456789012',
      });
      // Back to before the migration (and whatever came after it).
      for (let i = before; i < MIGRATIONS.length; i++) await ds.undoLastMigration();
      const [back] = (await ds.query('SELECT toc_digest, uncompressed_size FROM converted_layer')) as {
        toc_digest: string;
        uncompressed_size: string | number;
      }[];
      assert.equal(back.toc_digest, 'sha256:toc');
      assert.equal(Number(back.uncompressed_size), 123456789012);
      await ds.destroy();
    } finally {
      await dropDatabase(testConfig({ database: db }));
    }
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
