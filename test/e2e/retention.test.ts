import { AuditEntity, ConversionTaskEntity, JobEntity } from '@accel/db';
import { getRepositoryToken } from '@nestjs/typeorm';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Repository } from 'typeorm';
import { RetentionService } from '../../apps/manager/src/retention/retention.service';
import { ROOT_BASIC, TestGateway } from '../support/gateway';

const HOUR = 3_600_000;

describe('retention (real MariaDB)', () => {
  let g: TestGateway;
  let jobs: Repository<JobEntity>;
  let tasks: Repository<ConversionTaskEntity>;
  let audits: Repository<AuditEntity>;

  before(async () => {
    // Batches of 2: the purge must loop to remove them all.
    g = await TestGateway.start({
      retention: { jobHours: 24, conversionTaskHours: 48, auditDays: 7, intervalMinutes: 0, batchSize: 2 },
    });
    const app = g.manager.app;
    jobs = app.get(getRepositoryToken(JobEntity));
    tasks = app.get(getRepositoryToken(ConversionTaskEntity));
    audits = app.get(getRepositoryToken(AuditEntity));
  });
  after(async () => g?.stop());

  const job = (state: string, finishedHoursAgo: number | null, bio: string) =>
    jobs.save(
      jobs.create({
        taskId: `group_${randomUUID()}`,
        bio,
        type: 'preheat',
        state: state as JobEntity['state'],
        args: {} as JobEntity['args'],
        result: null,
        userId: 0,
        dialect: 'dragonfly-v2',
        imageKey: 'k'.repeat(64),
        activeKey: null,
        sealedHeaders: null,
        schedulerClusterIds: [],
        finishedAt: finishedHoursAgo === null ? null : new Date(Date.now() - finishedHoursAgo * HOUR),
      }),
    );
  const task = (status: string, finishedHoursAgo: number | null, source: string) =>
    tasks.save(
      tasks.create({
        uuid: randomUUID(),
        source,
        driver: 'estargz',
        status: status as ConversionTaskEntity['status'],
        finishedAt: finishedHoursAgo === null ? null : new Date(Date.now() - finishedHoursAgo * HOUR),
      }),
    );

  it('removes exactly the finished rows past their TTL, in batches; unfinished work is never touched', async () => {
    for (let i = 0; i < 5; i++) await job('SUCCESS', 30 + i, 'expired');
    await job('FAILURE', 25, 'expired');
    await job('SUCCESS', 2, 'recent');
    await job('PENDING', null, 'pending');
    await jobs.update({ bio: 'pending' }, { createdAt: new Date(Date.now() - 100 * HOUR) });
    await task('COMPLETED', 49, 'expired');
    await task('FAILED', 72, 'expired');
    await task('COMPLETED', 47, 'recent');
    await task('PROCESSING', null, 'processing');
    const oldAudit = await audits.save(
      audits.create({
        actorType: 'USER',
        actorName: 'root',
        eventType: 'API',
        operation: 'POST',
        path: '/old',
        target: '',
        state: 'SUCCESS',
        statusCode: 200,
        remoteIp: '',
      }),
    );
    await audits.update({ id: oldAudit.id }, { createdAt: new Date(Date.now() - 8 * 24 * HOUR) });
    const auditsBefore = await audits.count();

    const removed = await g.manager.app.get(RetentionService).purge();
    assert.deepEqual(removed, { jobs: 6, conversionTasks: 2, audits: 1 });
    assert.deepEqual((await jobs.find({ order: { id: 'ASC' } })).map((j) => j.bio).sort(), ['pending', 'recent']);
    assert.deepEqual((await tasks.find()).map((t) => t.source).sort(), ['processing', 'recent']);
    assert.equal(await audits.count(), auditsBefore - 1);
    assert.equal(await audits.countBy({ path: '/old' }), 0);
    assert.deepEqual(await g.manager.app.get(RetentionService).purge(), { jobs: 0, conversionTasks: 0, audits: 0 });
  });

  it('an operator can purge on demand; without credentials it is refused', async () => {
    await job('SUCCESS', 100, 'expired-again');
    assert.equal((await g.http('POST', '/api/v1/retention/purge')).status, 401);
    const ok = await g.http<{ removed: Record<string, number> }>('POST', '/api/v1/retention/purge', {
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.removed.jobs, 1);
  });

  it("Dragonfly's gc job: removes expired jobs (or audits) synchronously and answers its own job row", async () => {
    for (let i = 0; i < 3; i++) await job('SUCCESS', 30 + i, 'gc-expired');
    await job('SUCCESS', 1, 'gc-recent');
    const r = await g.http<Record<string, unknown>>('POST', '/oapi/v1/jobs', {
      body: { type: 'gc', bio: 'nightly', args: { type: 'job' }, user_id: 7 },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.type, 'gc');
    assert.equal(r.json.state, 'SUCCESS');
    assert.equal(r.json.bio, 'nightly');
    assert.match(String(r.json.task_id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Dragonfly's recorder: args {type, ttl (ns), batch_size}, result {purged}.
    assert.deepEqual(r.json.args, { type: 'job', ttl: 24 * HOUR * 1_000_000, batch_size: 2 });
    assert.deepEqual(r.json.result, { purged: 3 });
    assert.deepEqual((await jobs.findBy({ bio: 'gc-recent' })).length, 1);
    assert.equal((await jobs.findBy({ bio: 'gc-expired' })).length, 0);
    // The gc job is a job row like any other: listed by type, fetched by id.
    const listed = await g.http<{ id: number }[]>('GET', '/oapi/v1/jobs?type=gc', {
      headers: { authorization: ROOT_BASIC },
    });
    assert.deepEqual(
      listed.json.map((j) => j.id),
      [r.json.id],
    );
    const audit = await g.http<Record<string, unknown>>('POST', '/oapi/v1/jobs', {
      body: { type: 'gc', args: { type: 'audit' } },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(audit.status, 200, audit.text);
    assert.deepEqual(audit.json.args, { type: 'audit', ttl: 7 * 24 * HOUR * 1_000_000, batch_size: 2 });
    assert.equal((audit.json.result as { purged: number }).purged, 0);
  });

  it("gc: bad args are 422 in Dragonfly's shape; a job-scoped token (Harbor's) may not remove history", async () => {
    for (const args of [undefined, {}, { type: 'jobs' }, { type: 1 }]) {
      const r = await g.http<{ errors: string }>('POST', '/oapi/v1/jobs', {
        body: { type: 'gc', args },
        headers: { authorization: ROOT_BASIC },
      });
      assert.equal(r.status, 422, JSON.stringify(args));
      assert.match(r.json.errors, /type/);
    }
    await job('SUCCESS', 100, 'gc-kept');
    const harbor = await g.token(['job']);
    const gcRows = await jobs.countBy({ type: 'gc' });
    const refused = await g.http<{ message: string }>('POST', '/oapi/v1/jobs', {
      body: { type: 'gc', args: { type: 'job' } },
      headers: { authorization: `Bearer ${harbor}` },
    });
    assert.equal(refused.status, 403);
    assert.match(refused.json.message, /Required permission: admin/);
    assert.equal((await jobs.findBy({ bio: 'gc-kept' })).length, 1, 'nothing was removed');
    assert.equal(await jobs.countBy({ type: 'gc' }), gcRows, 'and no gc row was written for it');
  });
});
