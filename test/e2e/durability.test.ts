import { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENTITIES, JobEntity, insertHoldingLiveKey } from '@accel/db';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { eventually, services } from '../support/env';
import { ROOT_BASIC } from '../support/gateway';
import { PreheatWorld } from '../support/fixture';
import { startWorker } from '../support/worker';

describe('durability: MySQL is the source of truth, Redis only carries work', () => {
  let w: PreheatWorld;
  let worker: INestApplicationContext | undefined;

  before(async () => {
    w = await PreheatWorld.start({ server: { runWorkers: false }, preheat: { reconcileGraceSeconds: 0 } });
  });
  after(async () => {
    await worker?.close();
    await w?.stop();
  });

  /** A single-seed-peer preheat of a repository of the open registry, created as root. */
  const createPreheat = (bio: string, repository: string) =>
    w.gateway.http<{ id: number; state: string }>('POST', '/oapi/v1/jobs', {
      body: {
        type: 'preheat',
        bio,
        args: { type: 'image', url: w.url('open', repository), scope: 'single_seed_peer' },
        scheduler_cluster_ids: [1],
      },
      headers: { authorization: ROOT_BASIC },
    });

  it('a created job reads back exactly as its create answered (the row is not read back after the insert)', async () => {
    const created = await createPreheat('read-back', 'library/app');
    assert.equal(created.status, 200, created.text);
    const read = await w.gateway.http('GET', `/oapi/v1/jobs/${created.json.id}`, {
      headers: { authorization: ROOT_BASIC },
    });
    assert.deepEqual(read.json, created.json);
  });

  it('a create whose identical live job ends between its INSERT and the lookup makes a new job instead of failing', async () => {
    const ds = new DataSource({
      type: 'mysql',
      ...services.db,
      database: w.gateway.config.database.database,
      entities: ENTITIES,
      timezone: 'Z',
    });
    await ds.initialize();
    try {
      const rows = ds.getRepository(JobEntity);
      const key = randomBytes(32).toString('hex');
      const fields = (taskId: string): Partial<JobEntity> => ({
        taskId,
        type: 'preheat',
        state: 'PENDING',
        args: {} as JobEntity['args'],
        result: null,
        dialect: 'dragonfly-v2',
        imageKey: key,
        activeKey: key,
        schedulerClusterIds: [],
      });
      const first = await insertHoldingLiveKey(rows, fields('group_first'));
      assert.ok('row' in first);
      // The live job finishes (its key is released) right after the second INSERT was refused.
      const racing = Object.create(rows) as typeof rows;
      racing.findOneBy = async (where) => {
        await rows.update({ id: first.row.id }, { state: 'SUCCESS', activeKey: null });
        return rows.findOneBy(where);
      };
      const second = await insertHoldingLiveKey(racing, fields('group_second'));
      assert.ok('row' in second, 'a new job, not an error');
      assert.equal(second.row.taskId, 'group_second');
      assert.equal((await rows.findOneBy({ id: second.row.id }))?.activeKey, key);
    } finally {
      await ds.destroy();
    }
  });

  it('a job whose queue entry was lost is re-queued and finished by a standalone worker', async () => {
    const created = await w.gateway.http<{ id: number; state: string }>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', url: w.url('open', 'library/app') } },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(created.status, 200);
    assert.equal(created.json.state, 'PENDING');
    // Lose every queued entry, as a Redis without persistence does on restart.
    const redis = new Redis({ host: w.gateway.config.redis.host, port: w.gateway.config.redis.port });
    const keys = await redis.keys(`${w.gateway.config.redis.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();

    // No processor runs in the manager (runWorkers: false): the job waits.
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await w.gateway.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(waiting.json.state, 'PENDING');

    worker = await startWorker(w.gateway.config);
    const done = await eventually(
      async () => {
        const r = await w.gateway.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
          headers: { authorization: ROOT_BASIC },
        });
        return r.json.state === 'PENDING' ? undefined : r.json;
      },
      30_000,
      'job finished by the standalone worker',
    );
    assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
    const fetched = new Set(w.seeds.flatMap((s) => w.fetchedDigests(s)));
    for (const d of w.images.single.pulled) assert.ok(fetched.has(d));
  });
  it('a worker for conversions alone leaves preheat jobs to a preheat worker (server.workerQueues)', async () => {
    // The worker of the test before works every queue.
    await worker?.close();
    worker = undefined;
    const withQueues = (workerQueues: ('preheat' | 'convert')[]) =>
      Object.assign(Object.create(Object.getPrototypeOf(w.gateway.config) as object), w.gateway.config, {
        server: { ...w.gateway.config.server, workerQueues },
      }) as typeof w.gateway.config;
    const created = await createPreheat('queues', 'library/legacy');
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.state, 'PENDING');
    const state = async () =>
      (
        await w.gateway.http<{ state: string; result: unknown }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
          headers: { authorization: ROOT_BASIC },
        })
      ).json;
    const converting = await startWorker(withQueues(['convert']));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await state()).state, 'PENDING', 'the conversion worker took no preheat');
    } finally {
      await converting.close();
    }
    const preheating = await startWorker(withQueues(['preheat']));
    try {
      const done = await eventually(
        async () => ((await state()).state === 'PENDING' ? undefined : state()),
        30_000,
        'job finished by the preheat worker',
      );
      assert.equal(done.state, 'SUCCESS', JSON.stringify(done));
    } finally {
      await preheating.close();
    }
  });
});

describe('durability: conversion tasks survive a lost queue', () => {
  let w: import('../support/conversion-world').ConversionWorld;
  let worker: INestApplicationContext | undefined;

  before(async () => {
    const { ConversionWorld } = await import('../support/conversion-world');
    w = await ConversionWorld.start({ server: { runWorkers: false }, preheat: { reconcileGraceSeconds: 0 } });
  });
  after(async () => {
    await worker?.close();
    await w?.stop();
  });

  it('a PROCESSING task whose queue entry was lost is resumed by a standalone worker', async () => {
    const { image } = await import('../support/conversion-world');
    const img = await image();
    await w.push('library/durable', 'v1', img);
    assert.equal((await w.webhook(w.defaultPayload('library/durable', 'v1', img.digest))).status, 200);
    const redis = new Redis({ host: w.gateway.config.redis.host, port: w.gateway.config.redis.port });
    const keys = await redis.keys(`${w.gateway.config.redis.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const token = await w.gateway.token(['conversion']);
    const status = async () =>
      (
        await w.gateway.http<{ status: string; reason: string }[]>('GET', '/api/v1/conversions', {
          headers: { authorization: `Bearer ${token}` },
          base: w.gateway.conversionUrl,
        })
      ).json[0];
    assert.equal((await status()).status, 'PROCESSING');
    worker = await startWorker(w.gateway.config);
    const done = await eventually(
      async () => {
        const t = await status();
        return t.status === 'PROCESSING' ? undefined : t;
      },
      30_000,
      'resumed conversion',
    );
    assert.equal(done.status, 'COMPLETED', done.reason);
    const res = await fetch(`http://${w.registry.host}/v2/library/durable/manifests/v1-esgz`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.status, 200);
  });
});

describe('shutdown with work in flight', () => {
  it('stops within its grace period while a preheat waits on slow seed peers (the job stays PENDING for another worker)', async () => {
    const w = await PreheatWorld.start({ server: { shutdownGraceSeconds: 2 } });
    let stopped = false;
    try {
      for (const s of w.seeds) s.delayMs = 8_000;
      const created = await w.gateway.http<{ id: number }>('POST', '/oapi/v1/jobs', {
        body: { type: 'preheat', args: { type: 'image', url: w.url('open', 'library/app') } },
        headers: { authorization: ROOT_BASIC },
      });
      await eventually(
        async () => (w.seeds.some((s) => s.inFlight > 0) ? true : undefined),
        10_000,
        'download started',
      );
      const started = Date.now();
      await w.gateway.manager.close();
      stopped = true;
      assert.ok(Date.now() - started < 5_000, `stopped in ${Date.now() - started} ms (grace 2 s, downloads take 8 s)`);
      const { DataSource } = await import('typeorm');
      const { services } = await import('../support/env');
      const ds = new DataSource({ type: 'mysql', ...services.db, database: w.gateway.config.database.database });
      await ds.initialize();
      const [row] = (await ds.query('SELECT state FROM job WHERE id = ?', [created.json.id])) as { state: string }[];
      await ds.destroy();
      assert.equal(row.state, 'PENDING', 'nothing half-finished: the row waits for the next worker');
    } finally {
      for (const s of w.seeds) s.delayMs = 0;
      if (stopped) {
        // The manager is closed already: stop only what is left.
        const { dropDatabase } = await import('../support/env');
        await dropDatabase(w.gateway.config);
        await Promise.all([...w.seeds, ...w.peers].map((s) => s.stop()));
        await w.scheduler.stop();
        await w.registries.stop();
      } else {
        await w.stop();
      }
    }
  });
});

describe('SIGTERM drains downloads in flight and hands the rest straight back', () => {
  const { startManager } =
    require('../../apps/manager/src/bootstrap') as typeof import('../../apps/manager/src/bootstrap');
  const { TestGateway } = require('../support/gateway') as typeof import('../support/gateway');

  /** A preheat of every seed peer whose downloads each take `delayMs`, once they are all running. */
  async function preheatOnSlowSeeds(w: PreheatWorld, delayMs: number) {
    for (const s of w.seeds) s.delayMs = delayMs;
    const args = {
      type: 'image',
      url: w.url('open', 'library/app'),
      scope: 'all_seed_peers',
      concurrent_task_count: 10,
    };
    const created = await w.gateway.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args },
      headers: { authorization: ROOT_BASIC },
    });
    await eventually(
      async () => (w.seeds.every((s) => s.inFlight > 0) ? true : undefined),
      10_000,
      'downloads started',
    );
    return created;
  }

  it('lets running downloads finish within the grace period: each blob is read from the registry once, the job ends SUCCESS', async () => {
    const w = await PreheatWorld.start({ server: { shutdownGraceSeconds: 20 } });
    let restarted: InstanceType<typeof TestGateway> | undefined;
    try {
      const created = await preheatOnSlowSeeds(w, 3_000);
      const started = Date.now();
      await w.gateway.manager.close();
      const took = Date.now() - started;
      assert.ok(took >= 1_500 && took < 15_000, `drained in ${took} ms`);
      for (const s of w.seeds) s.delayMs = 0;
      // The next gateway finds the job done: nothing is fetched twice.
      restarted = new TestGateway(w.gateway.config);
      restarted.manager = await startManager(w.gateway.config);
      const job = await restarted.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
        headers: { authorization: ROOT_BASIC },
      });
      assert.equal(job.json.state, 'SUCCESS');
      for (const s of w.seeds) {
        const fetched = w.fetchedDigests(s);
        assert.equal(fetched.length, new Set(fetched).size, `${s.hostname} read each blob once`);
        assert.deepEqual(new Set(fetched), new Set(w.images.single.pulled));
      }
    } finally {
      for (const s of w.seeds) s.delayMs = 0;
      if (restarted) {
        w.gateway = restarted;
        await w.stop();
      } else
        await w.gateway.manager
          .close()
          .catch(() => undefined)
          .then(() => w.stop());
    }
  });

  it('past the grace period, running jobs go back to the queue: the restarted gateway resumes them at once, not after the stall check', async () => {
    const w = await PreheatWorld.start({ server: { shutdownGraceSeconds: 1 } });
    let restarted: InstanceType<typeof TestGateway> | undefined;
    try {
      const created = await preheatOnSlowSeeds(w, 6_000);
      await w.gateway.manager.close();
      for (const s of w.seeds) s.delayMs = 0;
      const before = w.seeds.map((s) => s.requests.length);
      const started = Date.now();
      restarted = new TestGateway(w.gateway.config);
      restarted.manager = await startManager(w.gateway.config);
      await eventually(
        async () => (w.seeds.some((s, i) => s.requests.length > before[i]) ? true : undefined),
        10_000,
        'downloads resumed by the restarted gateway',
      );
      const resumedMs = Date.now() - started;
      const done = await eventually(
        async () => {
          const r = await restarted!.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
            headers: { authorization: ROOT_BASIC },
          });
          return r.json.state === 'PENDING' ? undefined : r.json;
        },
        30_000,
        'resumed job finished',
      );
      assert.equal(done.state, 'SUCCESS');
      console.log(`restart: downloads resumed ${resumedMs} ms after the new gateway started`);
    } finally {
      for (const s of w.seeds) s.delayMs = 0;
      if (restarted) {
        w.gateway = restarted;
        await w.stop();
      } else await w.stop();
    }
  });
});
