import { GatewayMetrics } from '@accel/common';
import { buildConfig } from '@accel/config';
import { ConversionService, ConversionTaskRepository, DuplicateLiveTask, PushedArtifact } from '@accel/convert';
import { ConversionTaskEntity } from '@accel/db';
import { Queue } from 'bullmq';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

/** A task repository in memory with the table's unique live key, and a queue that records what it is given. */
function world(rules: Record<string, string>[] = [{ tag_suffix: '-esgz' }]) {
  const rows: ConversionTaskEntity[] = [];
  const queued: { name: string; data: unknown; jobId?: string }[] = [];
  const tasks = {
    insert: async (r: Partial<ConversionTaskEntity>) => {
      const live = r.activeKey ? rows.find((x) => x.activeKey === r.activeKey) : undefined;
      if (live) throw new DuplicateLiveTask(live);
      const row = Object.assign(new ConversionTaskEntity(), r, { id: rows.length + 1 });
      rows.push(row);
      return row;
    },
  } as unknown as ConversionTaskRepository;
  const queue = {
    add: async (name: string, data: unknown, opts: { jobId?: string }) =>
      void queued.push({ name, data, jobId: opts.jobId }),
    client: Promise.resolve({ status: 'ready' }),
  } as unknown as Queue;
  const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, converter: { rules } });
  return { service: new ConversionService(config, tasks, queue, new GatewayMetrics()), rows, queued };
}

const pushed = (tag: string | undefined, digest = `sha256:${'a'.repeat(64)}`): PushedArtifact => ({
  host: 'harbor.example',
  repository: 'library/app',
  tag,
  digest,
  resourceUrl: `harbor.example/library/app${tag ? `:${tag}` : `@${digest}`}`,
});

describe('conversion rules (ConversionService with a mocked repository and queue)', () => {
  it("converts a tag push to <tag><suffix>, queued under the task's key", async () => {
    const w = world();
    const task = await w.service.submit(pushed('v1'));
    assert.equal(task.status, 'PROCESSING');
    assert.equal(task.target, 'harbor.example/library/app:v1-esgz');
    assert.equal(w.queued.length, 1);
    assert.equal(w.queued[0].jobId, `cv-${task.activeKey}`);
  });

  it('skips what must not be converted, as COMPLETED with the reason, and queues nothing', async () => {
    const w = world([{ tag_suffix: '-esgz' }, { cache_tag: 'nydus-cache' }]);
    const reasons = [
      (await w.service.submit(pushed(undefined))).reason,
      (await w.service.submit(pushed('v1-esgz'))).reason,
      (await w.service.submit(pushed('nydus-cache'))).reason,
    ];
    assert.deepEqual(reasons, [
      'skipped: pushed by digest, so there is no tag to name the converted image',
      'skipped: the tag already ends with -esgz',
      'skipped: the tag is the conversion cache tag',
    ]);
    assert.ok(w.rows.every((r) => r.status === 'COMPLETED' && r.activeKey === null));
    assert.equal(w.queued.length, 0);
  });

  it('a redelivered push joins the live task; another digest under the same tag is a new task', async () => {
    const w = world();
    const first = await w.service.submit(pushed('v1'));
    const again = await w.service.submit(pushed('v1'));
    assert.equal(again.uuid, first.uuid);
    const newer = await w.service.submit(pushed('v1', `sha256:${'b'.repeat(64)}`));
    assert.notEqual(newer.uuid, first.uuid);
    assert.equal(w.queued.length, 2);
  });

  it('without a tag_suffix rule every push fails with the rule it lacks', async () => {
    const w = world([]);
    const task = await w.service.submit(pushed('v1'));
    assert.equal(task.status, 'FAILED');
    assert.match(task.reason ?? '', /converter\.rules\[\]\.tag_suffix/);
  });
});
