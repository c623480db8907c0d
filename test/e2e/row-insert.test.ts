import { ConversionTaskEntity, JobEntity, insertHoldingLiveKey, insertRow } from '@accel/db';
import { getRepositoryToken } from '@nestjs/typeorm';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ObjectLiteral, Repository } from 'typeorm';
import { TestGateway } from '../support/gateway';

/** The row as MariaDB holds it, every column but the id. */
async function stored<T extends ObjectLiteral>(rows: Repository<T>, id: number): Promise<Record<string, unknown>> {
  const [raw] = (await rows.query(`SELECT * FROM ${rows.metadata.tablePath} WHERE id = ?`, [id])) as Record<
    string,
    unknown
  >[];
  delete raw.id;
  return raw;
}

/** The same row written by TypeORM's query builder, for comparison. */
async function viaBuilder<T extends ObjectLiteral>(rows: Repository<T>, row: T): Promise<number> {
  const r = await rows
    .createQueryBuilder()
    .insert()
    .values({ ...row, id: undefined })
    .updateEntity(false)
    .execute();
  return Number((r.raw as { insertId: number }).insertId);
}

describe('row inserts (real MariaDB)', () => {
  let g: TestGateway;
  let jobs: Repository<JobEntity>;
  let tasks: Repository<ConversionTaskEntity>;

  before(async () => {
    g = await TestGateway.start({ server: { runWorkers: false } });
    jobs = g.manager.app.get(getRepositoryToken(JobEntity));
    tasks = g.manager.app.get(getRepositoryToken(ConversionTaskEntity));
  });
  after(async () => g?.stop());

  it('a job row is stored exactly as the query builder stores it, JSON, dates and nulls included', async () => {
    const fields: Partial<JobEntity> = {
      taskId: `group_${randomUUID()}`,
      bio: 'quote \' and "double" and \\ backslash, ünïcode ✓',
      type: 'preheat',
      state: 'PENDING',
      args: { type: 'image', url: 'http://r.example/v2/a/manifests/v1', scope: 'all_peers', ips: ['10.0.0.1'] },
      result: null,
      userId: 7,
      dialect: 'dragonfly-v2',
      imageKey: 'a'.repeat(64),
      sealedHeaders: 'sealed:abc',
      schedulerClusterIds: [1, 3],
      finishedAt: null,
      manifestDigest: `sha256:${'b'.repeat(64)}`,
    } as Partial<JobEntity>;
    const row = await insertRow(jobs, fields);
    const mine = await stored(jobs, row.id);
    const theirs = await stored(jobs, await viaBuilder(jobs, row));
    assert.deepEqual(mine, { ...theirs, task_id: mine.task_id });
    // And it reads back as the entity that was written.
    const back = await jobs.findOneByOrFail({ id: row.id });
    assert.deepEqual(
      [back.args, back.schedulerClusterIds, back.bio, back.sealedHeaders, back.result, back.createdAt.getTime()],
      [fields.args, [1, 3], fields.bio, 'sealed:abc', null, row.createdAt.getTime()],
    );
  });

  it('a conversion task row (defaults, bigints, a JSON column left null) matches the query builder too', async () => {
    const row = await insertRow(tasks, {
      uuid: randomUUID(),
      source: 'r.example/app:v1',
      driver: 'nydus',
      activeKey: null,
    } as Partial<ConversionTaskEntity>);
    assert.deepEqual(await stored(tasks, row.id), {
      ...(await stored(tasks, await viaBuilder(tasks, { ...row, uuid: row.uuid.replace(/^./, 'f') }))),
      uuid: row.uuid,
    });
  });

  it('a live key already held is refused with the job that holds it', async () => {
    const key = 'c'.repeat(64);
    const fields = (bio: string) =>
      ({
        taskId: `group_${randomUUID()}`,
        bio,
        type: 'preheat',
        state: 'PENDING',
        args: { type: 'image', url: 'http://r.example/v2/b/manifests/v1' },
        userId: 1,
        dialect: 'dragonfly-v2',
        imageKey: key,
        activeKey: key,
        schedulerClusterIds: [],
      }) as unknown as Partial<JobEntity>;
    const first = await insertHoldingLiveKey(jobs, fields('first'));
    const second = await insertHoldingLiveKey(jobs, fields('second'));
    assert.ok('row' in first && 'live' in second);
    assert.equal(second.live.id, first.row.id);
    assert.equal(second.live.bio, 'first');
  });
});
