import { GatewayMetrics, SecretBox } from '@accel/common';
import { buildConfig } from '@accel/config';
import { JobEntity } from '@accel/db';
import { ClusterInventory, UnknownClusterError } from '@accel/dragonfly';
import { DuplicateLiveJob, JobRepository, PreheatService } from '@accel/preheat';
import { ImageResolver, RegistryAccess } from '@accel/registry';
import { Queue } from 'bullmq';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, registry: { allowed: ['r.example'] } });
const url = 'https://r.example/v2/lib/app/manifests/v1';

/**
 * PreheatService over a job table in memory (the live key unique, as in MySQL) and a queue that
 * records what it is given; `raceOnInsert` makes another identical create win between the
 * lookup and the insert.
 */
function world(opts: { raceOnInsert?: boolean; clusters?: number[] } = {}) {
  const rows: JobEntity[] = [];
  const queued: unknown[] = [];
  const finished: { id: number; state: string; reason: string }[] = [];
  const add = (r: Partial<JobEntity>) => {
    const row = Object.assign(new JobEntity(), r, { id: rows.length + 1, createdAt: new Date() });
    rows.push(row);
    return row;
  };
  const jobs = {
    byId: async (id: number) => rows.find((r) => r.id === id) ?? null,
    insert: async (r: Partial<JobEntity>) => {
      if (opts.raceOnInsert) throw new DuplicateLiveJob(add({ ...r, bio: 'the winner' }));
      const live = rows.find((x) => x.activeKey === r.activeKey);
      if (live) throw new DuplicateLiveJob(live);
      return add(r);
    },
    finish: async (id: number, state: string, result: { job_states: { error: string }[] }) => {
      const row = rows.find((r) => r.id === id)!;
      finished.push({ id, state, reason: result.job_states[0]?.error ?? '' });
      Object.assign(row, { state, activeKey: null });
    },
  } as unknown as JobRepository;
  const known = opts.clusters ?? [1];
  const inventory = {
    clusters: async (ids: number[]) => {
      const missing = ids.filter((id) => !known.includes(id));
      if (missing.length) throw new UnknownClusterError(`scheduler cluster ${missing.join(', ')} not found`);
      return [];
    },
  } as unknown as ClusterInventory;
  const queue = {
    add: async (_: string, data: unknown) => void queued.push(data),
    remove: async () => 1,
    client: Promise.resolve({ status: 'ready' }),
  } as unknown as Queue;
  const secrets = new SecretBox(config);
  const service = new PreheatService(
    config,
    new RegistryAccess(config),
    inventory,
    secrets,
    jobs,
    { currentDigest: async () => undefined } as unknown as ImageResolver,
    queue,
    new GatewayMetrics(),
  );
  return { service, rows, queued, finished };
}

describe('PreheatService (job repository and queue mocked)', () => {
  it('a create retried while its job is live joins that job; another caller gets its own', async () => {
    const w = world();
    const a = await w.service.create({ type: 'image', url }, 'dragonfly-v2', 7);
    const again = await w.service.create({ type: 'image', url }, 'dragonfly-v2', 7);
    const other = await w.service.create({ type: 'image', url }, 'dragonfly-v2', 8);
    assert.equal(again.id, a.id);
    assert.notEqual(other.id, a.id);
    assert.equal(w.queued.length, 2, 'a joined create queues nothing');
  });

  it('two identical creates at once: the one that loses the insert joins the winner', async () => {
    const w = world({ raceOnInsert: true });
    const job = await w.service.create({ type: 'image', url }, 'dragonfly-v2', 7);
    assert.equal(job.bio, 'the winner');
    assert.equal(w.queued.length, 0);
  });

  it('keeps request header values out of the echoed args (sealed apart)', async () => {
    const w = world();
    const job = await w.service.create(
      { type: 'image', url, headers: { Authorization: 'Bearer harbor-pull-token' } },
      'dragonfly-v2',
      7,
    );
    assert.doesNotMatch(JSON.stringify(job.args), /harbor-pull-token/);
    assert.ok(job.sealedHeaders && !job.sealedHeaders.includes('harbor-pull-token'));
  });

  it('refuses registries off the allow-list and unknown clusters before writing anything', async () => {
    const w = world();
    assert.throws(
      () => w.service.validate({ type: 'image', url: 'https://evil.example/v2/x/manifests/v1' }),
      /not in the gateway's allowed registries/,
    );
    await assert.rejects(
      w.service.create({ type: 'image', url, schedulerClusterIds: [1, 9] }, 'dragonfly-v2', 7),
      /scheduler cluster 9 not found/,
    );
    assert.equal(w.rows.length, 0);
  });

  it('cancel ends a PENDING job as FAILURE naming who cancelled; a finished job is left as it is', async () => {
    const w = world();
    const job = await w.service.create({ type: 'image', url }, 'dragonfly-v2', 7);
    await w.service.cancel(job.id, 'alice');
    assert.deepEqual(w.finished, [{ id: job.id, state: 'FAILURE', reason: 'cancelled by alice' }]);
    await w.service.cancel(job.id, 'bob');
    assert.equal(w.finished.length, 1);
  });
});
