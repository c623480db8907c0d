import { BOOKMARK_EVERY, SEEK_FROM_OFFSET } from '@accel/preheat';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { services } from '../support/env';
import { TestGateway } from '../support/gateway';

const JOBS = 12_345;

/** Deep pages seek from bookmarks; what they hold must be what a plain OFFSET over the same order holds. */
describe('job lists: deep pages', () => {
  let g: TestGateway;
  let db: DataSource;
  let auth: Record<string, string>;

  before(async () => {
    g = await TestGateway.start({
      logLevel: 'error',
      server: { runWorkers: false },
      retention: { intervalMinutes: 0 },
    });
    auth = { authorization: `Bearer ${await g.token(['admin', 'job'])}` };
    db = await new DataSource({ type: 'mysql', ...services.db, database: g.config.database.database }).initialize();
    // Runs of 7 rows share a created_at, so the id tie-break decides the order inside them, and
    // bookmarks fall inside runs. Every fifth job FAILED: SUCCESS is a filtered list deep enough to seek in.
    await db.query(
      `INSERT INTO job (task_id, type, state, args, user_id, dialect, image_key, scheduler_cluster_ids, created_at, updated_at)
       SELECT CONCAT('group_', seq), 'preheat', IF(seq % 5 = 0, 'FAILURE', 'SUCCESS'), '{}', 1, 'dragonfly-v2', 'k', '[]',
              TIMESTAMP('2026-01-01') + INTERVAL (seq DIV 7) SECOND, NOW(3)
       FROM seq_1_to_${JOBS}`,
    );
  });
  after(async () => {
    await db?.destroy();
    await g?.stop();
  });

  const expected = async (offset: number, limit: number, state?: string): Promise<number[]> => {
    const rows: { id: string }[] = await db.query(
      `SELECT id FROM job WHERE is_del = 0 ${state ? 'AND state = ?' : ''} ORDER BY created_at DESC, id DESC LIMIT ?, ?`,
      state ? [state, offset, limit] : [offset, limit],
    );
    return rows.map((r) => Number(r.id));
  };
  const listed = async (path: string): Promise<number[]> => {
    const r = await g.http<{ id: number }[]>('GET', path, { headers: auth });
    assert.equal(r.status, 200, r.text);
    return r.json.map((j) => j.id);
  };

  it('every deep page of the admin and provider lists holds the rows OFFSET finds there, across bookmarks and ties', async () => {
    assert.ok(SEEK_FROM_OFFSET < JOBS && BOOKMARK_EVERY < SEEK_FROM_OFFSET);
    const cases: [page: number, perPage: number][] = [
      [SEEK_FROM_OFFSET / 20, 20], // the last page walked from the top
      [SEEK_FROM_OFFSET / 20 + 1, 20], // the first one sought
      [301, 20],
      [350, 20], // starts exactly on a bookmark
      [351, 20],
      [Math.ceil(JOBS / 20), 20], // the last, short page
      [Math.ceil(JOBS / 20) + 5, 20], // past the end: empty
      [12, 1000], // one page spanning bookmarks
      [7, 999],
    ];
    for (const [page, perPage] of cases) {
      const want = await expected((page - 1) * perPage, perPage);
      assert.deepEqual(await listed(`/api/v1/jobs?page=${page}&per_page=${perPage}`), want, `admin page ${page}`);
      assert.deepEqual(await listed(`/oapi/v1/jobs?page=${page}&per_page=${perPage}`), want, `provider page ${page}`);
    }
  });

  it('a filtered list seeks from bookmarks of its own rows', async () => {
    const succeeded = JOBS - Math.floor(JOBS / 5);
    for (const page of [SEEK_FROM_OFFSET / 10 + 1, 777, Math.ceil(succeeded / 10)]) {
      assert.deepEqual(
        await listed(`/api/v1/jobs?state=SUCCESS&page=${page}&per_page=10`),
        await expected((page - 1) * 10, 10, 'SUCCESS'),
        `SUCCESS page ${page}`,
      );
    }
  });
});
