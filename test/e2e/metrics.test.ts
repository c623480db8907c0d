import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { eventually, freePort } from '../support/env';
import { PreheatWorld } from '../support/fixture';
import { ROOT_BASIC, TestGateway } from '../support/gateway';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, sample lines only. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample line: ${l}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

/** The sum of a metric's samples whose labels include `where`. */
const value = (samples: Sample[], name: string, where: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe('Prometheus metrics', () => {
  let w: PreheatWorld;
  const TOKEN = 'scrape-secret-for-tests';

  before(async () => {
    w = await PreheatWorld.start({ metrics: { token: TOKEN } });
  });
  after(async () => w?.stop());

  const scrape = async (authorization = `Bearer ${TOKEN}`) => {
    const r = await w.gateway.http('GET', '/metrics', { headers: { authorization } });
    assert.equal(r.status, 200, r.text);
    return parse(r.text);
  };
  /** A scrape once the job counter moved: the worker counts a job just after its row shows the end. */
  const scrapeCounted = (before: Sample[], state: string) =>
    eventually(async () => {
      const s = await scrape();
      const counted = (x: Sample[]) => value(x, 'accel_preheat_jobs_total', { dialect: 'dragonfly-v2', state });
      return counted(s) > counted(before) ? s : undefined;
    }, 5_000);

  async function preheat(repository: string): Promise<{ state: string }> {
    const created = await w.gateway.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', url: w.url('open', repository), scope: 'all_seed_peers' } },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(created.status, 200, created.text);
    return eventually(async () => {
      const r = await w.gateway.http<{ state: string }>('GET', `/oapi/v1/jobs/${created.json.id}`, {
        headers: { authorization: ROOT_BASIC },
      });
      return r.json.state === 'PENDING' ? undefined : r.json;
    }, 60_000);
  }

  it('are readable by the metrics token and console users only, and count the refusals', async () => {
    assert.equal((await w.gateway.http('GET', '/metrics')).status, 401);
    assert.equal((await w.gateway.http('GET', '/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const before = await scrape(ROOT_BASIC);
    assert.equal((await w.gateway.http('GET', '/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const after = await scrape();
    assert.equal(
      value(after, 'accel_auth_refusals_total', { mode: 'bearer' }) -
        value(before, 'accel_auth_refusals_total', { mode: 'bearer' }),
      1,
    );
    assert.ok(value(after, 'accel_process_cpu_user_seconds_total') > 0, 'process metrics are exported');
  });

  it('a preheat moves the request, job, download and queue metrics; each seed peer is counted by name', async () => {
    const before = await scrape();
    const job = await preheat('library/app');
    assert.equal(job.state, 'SUCCESS');
    await w.gateway.http('GET', '/readyz');
    const after = await scrapeCounted(before, 'SUCCESS');
    const delta = (name: string, where: Record<string, string> = {}) =>
      value(after, name, where) - value(before, name, where);
    const blobs = w.images.single.pulled.length;
    assert.equal(delta('accel_http_requests_total', { route: '/oapi/v1/jobs', method: 'POST', status: '200' }), 1);
    assert.equal(
      delta('accel_http_requests_total', { dialect: 'dragonfly-v2', route: '/oapi/v1/jobs/:id' }) >= 1,
      true,
    );
    assert.equal(delta('accel_preheat_jobs_total', { dialect: 'dragonfly-v2', state: 'SUCCESS' }), 1);
    assert.equal(delta('accel_preheat_job_duration_seconds_count', { state: 'SUCCESS' }), 1);
    for (const seed of w.seeds) {
      assert.equal(delta('accel_preheat_downloads_total', { peer: seed.hostname, result: 'success' }), blobs);
      assert.ok(delta('accel_preheat_download_bytes_total', { peer: seed.hostname }) > 0);
    }
    assert.equal(
      delta('accel_preheat_origin_reads_total', { kind: 'made' }) +
        delta('accel_preheat_origin_reads_total', { kind: 'shared' }),
      blobs * w.seeds.length,
    );
    assert.ok(after.some((s) => s.name === 'accel_queue_jobs' && s.labels.queue === 'preheat'));
    for (const seed of w.seeds)
      assert.equal(
        value(after, 'accel_dragonfly_node_healthy', { node: `${seed.hostname} (${seed.ip}:${seed.port})` }),
        1,
      );
  });

  it('the Grafana dashboard and the README chart only metrics the gateway exports', async () => {
    const text = (await w.gateway.http('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).text;
    // Every metric has its HELP line, samples or not yet.
    const exported = new Set([...text.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]));
    const root = join(__dirname, '..', '..', '..');
    const named = (text: string) =>
      new Set([...text.matchAll(/\baccel_[a-z_]+[a-z]/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    const dashboard = named(readFileSync(join(root, 'docker', 'grafana-dashboard.json'), 'utf8'));
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const documented = named(readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## Layout')));
    assert.ok(dashboard.size >= 10 && documented.size >= 14);
    for (const name of [...dashboard, ...documented].filter((n) => !/^accel_(process|nodejs)$/.test(n)))
      assert.ok(exported.has(name), `${name} is charted or documented but not exported`);
  });

  it('a seed peer that is down counts as failures under its own name, and as unhealthy', async () => {
    const down = w.seeds[1];
    await down.stop();
    try {
      const before = await scrape();
      // Another image: the first one's downloads are still shared within preheat.downloadShareSeconds.
      const job = await preheat('library/legacy');
      assert.equal(job.state, 'FAILURE');
      await w.gateway.http('GET', '/readyz');
      const after = await scrapeCounted(before, 'FAILURE');
      const delta = (name: string, where: Record<string, string>) =>
        value(after, name, where) - value(before, name, where);
      assert.equal(
        delta('accel_preheat_downloads_total', { peer: down.hostname, result: 'failure' }),
        w.images.single.pulled.length,
      );
      assert.equal(delta('accel_preheat_downloads_total', { peer: w.seeds[0].hostname, result: 'failure' }), 0);
      assert.equal(delta('accel_preheat_jobs_total', { state: 'FAILURE' }), 1);
      assert.equal(
        value(after, 'accel_dragonfly_node_healthy', { node: `${down.hostname} (${down.ip}:${down.port})` }),
        0,
      );
    } finally {
      await down.start(down.port);
    }
  });
});

describe('metrics on their own port (metrics.port)', () => {
  let g: TestGateway;
  let port: number;

  before(async () => {
    port = await freePort();
    g = await TestGateway.start({ metrics: { port, token: 'own-port-token' } });
  });
  after(async () => g?.stop());

  it('serves /metrics there alone, with the token, and not on the API port', async () => {
    assert.equal((await g.http('GET', '/metrics', { headers: { authorization: ROOT_BASIC } })).status, 404);
    const url = `http://127.0.0.1:${port}/metrics`;
    assert.equal((await request(url)).statusCode, 401);
    const ok = await request(url, { headers: { authorization: 'Bearer own-port-token' } });
    assert.equal(ok.statusCode, 200);
    assert.match(await ok.body.text(), /^# HELP accel_http_requests_total /m);
    assert.equal((await request(`http://127.0.0.1:${port}/api/v1/users`)).statusCode, 404);
  });
});

describe('readiness with Dragonfly clusters', () => {
  let w: PreheatWorld;

  before(async () => {
    w = await PreheatWorld.start();
  });
  after(async () => w?.stop());

  const ready = () =>
    w.gateway.http<{ checks: { seedPeers: { clustersWithoutHealthySeedPeer: number[]; healthy: number } } }>(
      'GET',
      '/readyz',
    );

  it('stays ready while one seed peer per cluster answers, and goes 503 naming the cluster when none does', async () => {
    assert.equal((await ready()).status, 200);
    const [first, second] = w.seeds;
    await second.stop();
    try {
      const one = await ready();
      assert.equal(one.status, 200, 'one reachable seed peer serves the cluster');
      assert.equal(one.json.checks.seedPeers.healthy, 1);
      await first.stop();
      try {
        const none = await ready();
        assert.equal(none.status, 503);
        assert.deepEqual(none.json.checks.seedPeers.clustersWithoutHealthySeedPeer, [1]);
        assert.doesNotMatch(JSON.stringify(none.json), /127\.0\.0\.1/, 'no addresses');
      } finally {
        await first.start(first.port);
      }
    } finally {
      await second.start(second.port);
    }
    assert.equal((await ready()).status, 200);
  });
});
