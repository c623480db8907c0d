import { ConversionTaskEntity, JobEntity, findOneWhere, insertHoldingLiveKey, insertRow, updateWhere } from '@accel/db';
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

/** A PENDING preheat job's fields. */
const pendingJob = (bio: string, more: Partial<JobEntity>): Partial<JobEntity> =>
  ({
    taskId: `group_${randomUUID()}`,
    bio,
    type: 'preheat',
    state: 'PENDING',
    args: { type: 'image', url: 'http://r.example/v2/b/manifests/v1' },
    userId: 1,
    dialect: 'dragonfly-v2',
    schedulerClusterIds: [],
    ...more,
  }) as unknown as Partial<JobEntity>;

describe('row inserts and updates (real MariaDB)', () => {
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
      ...(await stored(tasks, await viaBuilder(tasks, { ...row, uuid: randomUUID() }))),
      uuid: row.uuid,
    });
  });

  it('a live key already held is refused with the job that holds it', async () => {
    const key = 'c'.repeat(64);
    const fields = (bio: string) => pendingJob(bio, { imageKey: key, activeKey: key });
    const first = await insertHoldingLiveKey(jobs, fields('first'));
    const second = await insertHoldingLiveKey(jobs, fields('second'));
    assert.ok('row' in first && 'live' in second);
    assert.equal(second.live.id, first.row.id);
    assert.equal(second.live.bio, 'first');
  });

  it('an update sets what Repository.update sets, counts the rows it matched, and moves updated_at', async () => {
    const fields = (bio: string) =>
      pendingJob(bio, {
        imageKey: 'd'.repeat(64),
        activeKey: randomUUID().replace(/-/g, '').padEnd(64, '0'),
        sealedHeaders: 'sealed:xyz',
        schedulerClusterIds: [2],
      });
    const old = new Date(Date.now() - 3_600_000);
    const [a, b] = [await insertRow(jobs, fields('a')), await insertRow(jobs, fields('b'))];
    await jobs.query('UPDATE job SET updated_at = ? WHERE id IN (?, ?)', [old, a.id, b.id]);
    const finishedAt = new Date();
    const set = {
      state: 'SUCCESS',
      result: { state: 'SUCCESS', jobStates: [{ state: 'SUCCESS', results: [{ note: 'it\'s "done"' }] }] },
      finishedAt,
      sealedHeaders: null,
      activeKey: null,
    } as unknown as Partial<JobEntity>;
    assert.equal(await updateWhere(jobs, { id: a.id, state: 'PENDING' } as Partial<JobEntity>, set), 1);
    await jobs.update({ id: b.id, state: 'PENDING' } as never, set as never);
    const [mine, theirs] = [await stored(jobs, a.id), await stored(jobs, b.id)];
    assert.ok((mine.updated_at as Date).getTime() > old.getTime() + 60_000, 'updated_at moved');
    const same = (r: Record<string, unknown>) => ({ ...r, task_id: 0, bio: 0, created_at: 0, updated_at: 0 });
    assert.deepEqual(same(mine), same(theirs));
    // Matched by every field: a finished job is not finished again.
    assert.equal(await updateWhere(jobs, { id: a.id, state: 'PENDING' } as Partial<JobEntity>, { bio: 'x' }), 0);
    assert.equal((await jobs.findOneByOrFail({ id: a.id })).bio, 'a');
    // What it cannot write as plain values (a null to match) goes to Repository.update, with its answer.
    const viaRepository = (await jobs.update({ id: b.id, activeKey: null } as never, { bio: 'y' })).affected;
    assert.equal(
      await updateWhere(jobs, { id: a.id, activeKey: null } as Partial<JobEntity>, { bio: 'y' }),
      viaRepository,
    );
  });

  it('a row read by id is the entity Repository.findOneBy returns, and nothing for a row deleted or absent', async () => {
    const row = await insertRow(
      jobs,
      pendingJob('read me', { imageKey: 'e'.repeat(64), sealedHeaders: 'sealed:1', schedulerClusterIds: [4, 5] }),
    );
    await updateWhere(
      jobs,
      { id: row.id } as Partial<JobEntity>,
      {
        result: { state: 'PENDING', jobStates: [] },
        finishedAt: new Date(),
      } as unknown as Partial<JobEntity>,
    );
    const mine = await findOneWhere(jobs, { id: row.id, isDel: 0 } as Partial<JobEntity>);
    const theirs = await jobs.findOneBy({ id: row.id, isDel: 0 });
    assert.ok(mine instanceof JobEntity);
    assert.deepEqual(mine, theirs);
    assert.deepEqual(mine.schedulerClusterIds, [4, 5]);
    await jobs.update({ id: row.id }, { isDel: 1 });
    assert.equal(await findOneWhere(jobs, { id: row.id, isDel: 0 } as Partial<JobEntity>), null);
    assert.equal(await findOneWhere(jobs, { id: 987_654_321, isDel: 0 } as Partial<JobEntity>), null);
  });
});
