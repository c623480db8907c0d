import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/env';
import { PreheatWorld } from '../support/fixture';
import { ROOT_BASIC, TestGateway } from '../support/gateway';
import { PrivateMariaDb, PrivateRedis } from '../support/private-services';

interface Answer {
  status: number;
  ms: number;
  headers: Headers;
  json: { id?: number; state?: string; checks?: Record<string, unknown> } & Record<string, unknown>;
}

/** One call as a client with a 10 s timeout sees it (Harbor's is 30 s): a hang fails the test, it does not stall it. */
async function call(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(base + path, {
    method,
    headers: { authorization: ROOT_BASIC, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, ms: Date.now() - started, headers: res.headers, json: text ? JSON.parse(text) : {} };
}

/** A world whose gateway uses the test's own Redis (which the test stops and restarts); rows re-queued at once. */
async function onPrivateRedis<W>(
  redis: PrivateRedis,
  start: (overrides: Record<string, unknown>) => Promise<W>,
): Promise<W> {
  await redis.start();
  return start({ redis: { port: redis.port }, preheat: { reconcileGraceSeconds: 0, reconcileIntervalSeconds: 1 } });
}

/** Redis back (the world's cleanup uses it), the world stopped, then Redis and its files gone. */
async function stopOnPrivateRedis(redis: PrivateRedis, w: { stop(): Promise<void> } | undefined): Promise<void> {
  await redis.start().catch(() => undefined);
  await w?.stop();
  await redis.destroy();
}

describe('Redis outage: creates answer at once, retries join, every job finishes after recovery', () => {
  const redis = new PrivateRedis();
  let w: PreheatWorld;

  before(async () => {
    w = await onPrivateRedis(redis, (overrides) => PreheatWorld.start(overrides));
  });
  after(() => stopOnPrivateRedis(redis, w));

  it('creates during the outage (40; ACCEL_OUTAGE_CREATES): each answered within seconds, retried creates get the same job, all SUCCESS once Redis is back', async () => {
    const body = (i: number) => ({
      type: 'preheat',
      args: { type: 'image', url: w.url('open', 'library/app'), tag: `outage-${i}` },
    });
    const warm = await call(w.gateway.url, 'POST', '/oapi/v1/jobs', body(-1));
    assert.equal(warm.status, 200);

    await redis.stop();
    const N = Number(process.env.ACCEL_OUTAGE_CREATES ?? 40);
    const first = await Promise.all(
      Array.from({ length: N }, (_, i) => call(w.gateway.url, 'POST', '/oapi/v1/jobs', body(i))),
    );
    const worst = Math.max(...first.map((a) => a.ms));
    assert.ok(
      first.every((a) => a.status === 200 && a.json.state === 'PENDING'),
      JSON.stringify(first.map((a) => a.status)),
    );
    assert.ok(worst < 5_000, `slowest create took ${worst} ms with Redis down`);
    // The client's retries (as if the first answers were lost) start nothing new.
    const retried = await Promise.all(
      Array.from({ length: N }, (_, i) => call(w.gateway.url, 'POST', '/oapi/v1/jobs', body(i))),
    );
    assert.deepEqual(
      retried.map((a) => a.json.id),
      first.map((a) => a.json.id),
      'a retry joins the pending job',
    );
    const ids = new Set(first.map((a) => a.json.id));
    assert.equal(ids.size, N, 'one job per create');
    const healthy = await call(w.gateway.url, 'GET', '/healthy');
    assert.equal(healthy.status, 200, 'Harbor health stays cheap and up');
    const ready = await call(w.gateway.url, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.headers.get('retry-after'), '5');
    assert.deepEqual(
      { database: ready.json.checks?.database, redis: ready.json.checks?.redis },
      { database: 'up', redis: 'down' },
    );

    const back = Date.now();
    await redis.start();
    const states = await eventually(
      async () => {
        const all = await Promise.all([...ids].map((id) => call(w.gateway.url, 'GET', `/oapi/v1/jobs/${id}`)));
        return all.every((a) => a.json.state !== 'PENDING') ? all.map((a) => a.json.state) : undefined;
      },
      90_000,
      'every job finished after Redis came back',
    );
    assert.deepEqual(new Set(states), new Set(['SUCCESS']));
    const listed = await call(w.gateway.url, 'GET', '/oapi/v1/jobs?per_page=1000');
    assert.equal((listed.json as unknown as unknown[]).length, N + 1, 'no duplicate job');
    assert.equal((await call(w.gateway.url, 'GET', '/readyz')).status, 200);
    // A repeat after the job has ended is new work, as Harbor expects.
    const again = await call(w.gateway.url, 'POST', '/oapi/v1/jobs', body(0));
    assert.ok(!ids.has(again.json.id), 'a create after the first job finished is a new job');
    console.log(
      `Redis outage: ${N}/${N} creates answered 200, slowest ${worst} ms; ${N} retries joined (0 duplicates); all ${N} SUCCESS ${Date.now() - back} ms after Redis returned`,
    );
  });
});

describe('MariaDB outage: 503 with Retry-After, readiness says why, service resumes by itself', () => {
  const db = new PrivateMariaDb();
  let gateway: TestGateway;

  before(async () => {
    await db.start();
    gateway = await TestGateway.start({
      database: { host: '127.0.0.1', port: db.port, username: 'root', password: '' },
    });
  });
  after(async () => {
    await db.start().catch(() => undefined);
    await gateway?.stop();
    await db.destroy();
  });

  it('answers 503 + Retry-After on every dialect while the database is down, never 500, and recovers', async () => {
    const create = {
      type: 'preheat',
      args: { type: 'image', url: 'http://127.0.0.1:5000/v2/library/app/manifests/v1' },
    };
    assert.equal((await call(gateway.url, 'GET', '/readyz')).status, 200);
    assert.equal((await call(gateway.url, 'POST', '/api/v1/scheduler-clusters', { id: 1, name: 'c1' })).status, 200);

    await db.stop();
    const during = [
      await call(gateway.url, 'POST', '/oapi/v1/jobs', create),
      await call(gateway.url, 'GET', '/oapi/v1/jobs/1'),
      await call(gateway.url, 'POST', '/preheats', { type: 'image', url: create.args.url }),
      await call(gateway.url, 'GET', '/api/v1/scheduler-clusters'),
    ];
    for (const a of during) {
      assert.equal(a.status, 503, JSON.stringify(a.json));
      assert.equal(a.headers.get('retry-after'), '5');
      assert.ok(a.ms < 5_000, `answered in ${a.ms} ms`);
    }
    assert.equal((await call(gateway.url, 'GET', '/healthy')).status, 200);
    assert.equal((await call(gateway.url, 'GET', '/livez')).status, 200);
    const ready = await call(gateway.url, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(
      { database: ready.json.checks?.database, redis: ready.json.checks?.redis },
      { database: 'down', redis: 'up' },
    );

    await db.start();
    const created = await eventually(
      async () => {
        const a = await call(gateway.url, 'POST', '/oapi/v1/jobs', create);
        return a.status === 200 ? a : undefined;
      },
      30_000,
      'creates work again',
    );
    assert.equal(created.json.state, 'PENDING');
    // Cluster 1 has no seed peer, so readiness stays 503 for that alone: the database is back.
    const after = await call(gateway.url, 'GET', '/readyz');
    assert.deepEqual(
      {
        database: after.json.checks?.database,
        redis: after.json.checks?.redis,
        empty: (after.json.checks?.seedPeers as { clustersWithoutHealthySeedPeer?: number[] } | undefined)
          ?.clustersWithoutHealthySeedPeer,
      },
      { database: 'up', redis: 'up', empty: [1] },
    );
    console.log(
      `MariaDB outage: ${during.length} calls answered 503 + Retry-After in ≤ ${Math.max(...during.map((a) => a.ms))} ms; creates resumed after restart`,
    );
  });
});

describe('Redis outage: a pushed image is still converted', () => {
  const redis = new PrivateRedis();
  let w: import('../support/conversion-world').ConversionWorld;

  before(async () => {
    const { ConversionWorld } = await import('../support/conversion-world');
    w = await onPrivateRedis(redis, (overrides) => ConversionWorld.start(overrides));
  });
  after(() => stopOnPrivateRedis(redis, w));

  it('answers the webhook while Redis is down, a redelivery joins the task, and the conversion completes once Redis is back', async () => {
    const { image } = await import('../support/conversion-world');
    const img = await image();
    await w.push('library/outage', 'v1', img);
    await redis.stop();
    const started = Date.now();
    const first = await w.webhook(w.defaultPayload('library/outage', 'v1', img.digest));
    const ms = Date.now() - started;
    assert.equal(first.status, 200);
    assert.ok(ms < 5_000, `webhook answered in ${ms} ms with Redis down`);
    assert.equal((await w.webhook(w.defaultPayload('library/outage', 'v1', img.digest))).status, 200);
    await redis.start();
    const token = await w.gateway.token(['conversion']);
    const tasks = await eventually(
      async () => {
        const r = await w.gateway.http<{ status: string; reason: string }[]>('GET', '/api/v1/conversions', {
          headers: { authorization: `Bearer ${token}` },
          base: w.gateway.conversionUrl,
        });
        return r.json.length && r.json.every((t) => t.status !== 'PROCESSING') ? r.json : undefined;
      },
      60_000,
      'conversion after Redis returned',
    );
    assert.equal(tasks.length, 1, 'the redelivery joined the first task');
    assert.equal(tasks[0].status, 'COMPLETED', tasks[0].reason);
    const res = await fetch(`http://${w.registry.host}/v2/library/outage/manifests/v1-esgz`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.status, 200);
  });
});
