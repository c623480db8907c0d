import { AuditEntity } from '@accel/db';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { Repository } from 'typeorm';
import { AuditRecorder } from '../../apps/manager/src/admin/audit/audit.recorder';
import { sleep } from '../support/env';

/** An audit table in memory: each statement the recorder sends, with the rows it carries. */
function table() {
  const statements: Partial<AuditEntity>[][] = [];
  const repo = {
    create: (fields: Partial<AuditEntity>) => Object.assign(new AuditEntity(), fields),
    save: async (row: Partial<AuditEntity>) => void statements.push([row]),
    createQueryBuilder: () => {
      let rows: Partial<AuditEntity>[] = [];
      const qb = {
        insert: () => qb,
        values: (v: Partial<AuditEntity>[]) => ((rows = v), qb),
        updateEntity: () => qb,
        execute: async () => void statements.push(rows),
      };
      return qb;
    },
  } as unknown as Repository<AuditEntity>;
  return { recorder: new AuditRecorder(repo), statements };
}

/** One provider call answered: what the middleware sees of it. */
function call(recorder: AuditRecorder, status: number): void {
  const res = Object.assign(new EventEmitter(), { statusCode: status, json: () => res });
  const req = {
    path: '/oapi/v1/jobs',
    method: 'POST',
    body: {},
    socket: { remoteAddress: '10.0.0.9' },
    user: { kind: 'token', name: 'harbor' },
  };
  recorder.middleware()(req as never, res as never, () => undefined);
  res.emit('finish');
}

describe('AuditRecorder (audit table mocked)', () => {
  it('calls answered together are written by one statement, each row stamped when it happened', async () => {
    const { recorder, statements } = table();
    const before = Date.now();
    for (let i = 0; i < 20; i++) call(recorder, i % 5 === 0 ? 403 : 200);
    await sleep(200);
    assert.equal(statements.length, 1, 'one INSERT for 20 calls (one per call before)');
    const rows = statements[0];
    assert.equal(rows.length, 20);
    assert.deepEqual(
      rows.slice(0, 2).map((r) => [r.actorType, r.actorName, r.eventType, r.state, r.statusCode, r.remoteIp]),
      [
        ['PAT', 'harbor', 'PROVIDER', 'FAILURE', 403, '10.0.0.9'],
        ['PAT', 'harbor', 'PROVIDER', 'SUCCESS', 200, '10.0.0.9'],
      ],
    );
    for (const r of rows) assert.ok(r.createdAt instanceof Date && r.createdAt.getTime() - before < 150);
  });

  it('stopping writes what is still waiting at once, and what comes later without delay', async () => {
    const { recorder, statements } = table();
    call(recorder, 200);
    call(recorder, 200);
    await recorder.beforeApplicationShutdown();
    assert.deepEqual(
      statements.map((s) => s.length),
      [2],
    );
    call(recorder, 200);
    await sleep(0);
    assert.deepEqual(
      statements.map((s) => s.length),
      [2, 1],
    );
  });
});
