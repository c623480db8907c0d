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
});
