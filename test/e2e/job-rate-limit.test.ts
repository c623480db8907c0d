import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/env';
import { ROOT_BASIC, TestGateway } from '../support/gateway';

/** Dragonfly's per-cluster job rate limit on POST /oapi/v1/jobs (job_rate_limit, Redis-shared, 429 text). */
describe('job rate limit per scheduler cluster', () => {
  let g: TestGateway;
  let token: string;

  before(async () => {
    g = await TestGateway.start({
      preheat: { clusters: [{ id: 1, name: 'limited', jobRateLimit: 3, schedulers: [], seedPeers: [] }] },
    });
    token = await g.token(['job']);
  });
  after(async () => g?.stop());

  const create = (clusterIds?: number[]) =>
    g.http('POST', '/oapi/v1/jobs', {
      body: {
        type: 'get_task',
        args: { content_for_calculating_task_id: 'rate' },
        ...(clusterIds ? { scheduler_cluster_ids: clusterIds } : {}),
      },
      headers: { authorization: `Bearer ${token}` },
    });
  /** With one job per page, the Link header's last page is the number of jobs. */
  const jobCount = async () => {
    const r = await g.http('GET', '/oapi/v1/jobs?per_page=1', { headers: { authorization: `Bearer ${token}` } });
    return Number(/[?&]page=(\d+)[^>]*>;rel=last/.exec(String(r.headers.link))![1]);
  };
  const burst = async (n: number, ids?: number[]) => {
    await sleep(1100); // a fresh second
    return Promise.all(Array.from({ length: n }, () => create(ids)));
  };

  it('a cluster takes job_rate_limit creations per second; the rest get 429 "rate limit exceeded" and no row', async () => {
    const answers = await burst(6, [1]);
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(ok.length, 3, answers.map((a) => a.status).join(','));
    assert.equal(limited.length, 3);
    for (const l of limited) {
      assert.equal(l.text, 'rate limit exceeded');
      assert.match(String(l.headers['content-type']), /^text\/plain/);
      assert.ok(Number(l.headers['retry-after']) >= 1);
    }
    // Recovery: the next second has room again.
    await sleep(1100);
    assert.equal((await create([1])).status, 200);
  });

  it('a job naming no cluster is never limited; an unknown cluster is a 404 that names it', async () => {
    const answers = await burst(8);
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(8).fill(200),
    );
    const unknown = await create([99]);
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /scheduler cluster 99 not found/);
  });

  it('the limit is set per cluster through the admin API and applies at once', async () => {
    const created = await g.http<{ id: number; config: { job_rate_limit: number } }>(
      'POST',
      '/api/v1/scheduler-clusters',
      { body: { id: 2, name: 'edge', config: { job_rate_limit: 2 } }, headers: { authorization: ROOT_BASIC } },
    );
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.json.config, { job_rate_limit: 2 });
    let answers = await burst(4, [2]);
    assert.equal(answers.filter((a) => a.status === 200).length, 2, answers.map((a) => a.status).join(','));
    const patched = await g.http<{ config: { job_rate_limit: number } }>('PATCH', '/api/v1/scheduler-clusters/2', {
      body: { config: { job_rate_limit: 4 } },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.json.config, { job_rate_limit: 4 });
    answers = await burst(6, [2]);
    assert.equal(answers.filter((a) => a.status === 200).length, 4, answers.map((a) => a.status).join(','));
    for (const bad of [0, -1, 'x', 2_000_000]) {
      const r = await g.http('PATCH', '/api/v1/scheduler-clusters/2', {
        body: { config: { job_rate_limit: bad } },
        headers: { authorization: ROOT_BASIC },
      });
      assert.equal(r.status, 422, `${String(bad)}: ${r.text}`);
    }
    assert.equal(
      (
        await g.http('PATCH', '/api/v1/scheduler-clusters/77', {
          body: { bio: 'x' },
          headers: { authorization: ROOT_BASIC },
        })
      ).status,
      404,
    );
  });

  it('a limited create writes nothing', async () => {
    await sleep(1100);
    await Promise.all([create([1]), create([1]), create([1])]);
    const before = await jobCount();
    const r = await create([1]);
    assert.equal(r.status, 429);
    assert.equal(await jobCount(), before);
  });
});
