import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/env';
import { ROOT_BASIC } from '../support/gateway';
import { PreheatWorld } from '../support/fixture';

interface JobBody {
  id: number;
  state: string;
  result: {
    job_states: {
      error: string;
      results: {
        success_tasks: { url: string; hostname: string; ip: string }[];
        failure_tasks: { url: string; hostname: string; description: string }[];
        scheduler_cluster_id: number;
      }[];
    }[];
  } | null;
}

describe('scopes, platforms and shared downloads', () => {
  let w: PreheatWorld;

  before(async () => {
    w = await PreheatWorld.start();
  });
  after(async () => w?.stop());

  async function run(args: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<JobBody> {
    const created = await w.gateway.http<JobBody>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', ...args }, ...extra },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(created.status, 200, created.text);
    return eventually(
      async () => {
        const r = await w.gateway.http<JobBody>('GET', `/oapi/v1/jobs/${created.json.id}`, {
          headers: { authorization: ROOT_BASIC },
        });
        return r.json.state === 'PENDING' ? undefined : r.json;
      },
      30_000,
      `job ${created.json.id}`,
    );
  }

  const successes = (j: JobBody) => j.result!.job_states.flatMap((s) => s.results.flatMap((r) => r.success_tasks));
  const blobOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

  it('single_seed_peer: each blob goes to exactly one seed peer, chosen by consistent hash', async () => {
    const job = await run({ url: w.url('open', 'library/app'), scope: 'single_seed_peer' });
    assert.equal(job.state, 'SUCCESS');
    const tasks = successes(job);
    assert.deepEqual(tasks.map((t) => blobOf(t.url)).sort(), [...w.images.single.pulled].sort());
    // Harbor 2.12's "single_peer" means the same thing.
    const again = await run({ url: w.url('open', 'library/app'), scope: 'single_peer' });
    assert.deepEqual(
      successes(again)
        .map((t) => `${blobOf(t.url)}@${t.hostname}`)
        .sort(),
      tasks.map((t) => `${blobOf(t.url)}@${t.hostname}`).sort(),
    );
  });

  it('all_peers: every normal host the scheduler lists, filtered by ips, then count, then percentage', async () => {
    const all = await run({ url: w.url('open', 'library/app'), scope: 'all_peers' });
    assert.equal(all.state, 'SUCCESS');
    const hosts = (j: JobBody) => [...new Set(successes(j).map((t) => t.hostname))].sort();
    assert.deepEqual(hosts(all), ['peer-1', 'peer-2', 'peer-3']);
    for (const p of w.peers) assert.deepEqual(new Set(w.fetchedDigests(p)), new Set(w.images.single.pulled));
    assert.deepEqual(
      hosts(await run({ url: w.url('open', 'library/legacy'), scope: 'all_peers', ips: ['127.0.0.3'] })),
      ['peer-2'],
    );
    assert.deepEqual(hosts(await run({ url: w.url('open', 'library/legacy'), scope: 'all_peers', count: 2 })), [
      'peer-1',
      'peer-2',
    ]);
    assert.deepEqual(hosts(await run({ url: w.url('open', 'library/legacy'), scope: 'all_peers', percentage: 34 })), [
      'peer-1',
    ]);
  });

  it('multi-arch: the requested platform, every platform with "all", variants of a Docker manifest list', async () => {
    const [amd64, arm64] = w.images.multi.images;
    const urls = (j: JobBody) => new Set(successes(j).map((t) => blobOf(t.url)));
    assert.deepEqual(
      urls(await run({ url: w.url('open', 'library/multi'), platform: 'linux/arm64' })),
      new Set(arm64.pulled),
    );
    assert.deepEqual(
      urls(await run({ url: w.url('open', 'library/multi'), platform: 'all' })),
      new Set([...amd64.pulled, ...arm64.pulled]),
    );
    assert.deepEqual(
      urls(await run({ url: w.url('open', 'library/multi') })),
      new Set(amd64.pulled),
      'default platform linux/amd64',
    );
    const armv7 = w.images.list.images[1];
    assert.deepEqual(
      urls(await run({ url: w.url('open', 'library/list'), platform: 'linux/arm/v7' })),
      new Set(armv7.pulled),
    );
    const missing = await run({ url: w.url('open', 'library/multi'), platform: 'linux/s390x' });
    assert.equal(missing.state, 'FAILURE');
    assert.match(
      missing.result!.job_states[0].error,
      /no matching manifest for platform linux\/s390x .*offers linux\/amd64, linux\/arm64/,
    );
  });

  it('N identical concurrent preheats read each blob from the registry once', async () => {
    const { image, push } = await import('../support/images');
    const img = await image({ layers: 3, layerBytes: 256 * 1024 });
    await push(w.registries.open.host, 'library/shared', 'v1', img);
    for (const s of w.seeds) s.delayMs = 300;
    try {
      const jobs = await Promise.all(
        Array.from({ length: 5 }, () =>
          run({
            url: w.url('token', 'library/shared'),
            headers: {
              Authorization: `Bearer ${w.registries.tokens.mint([{ type: 'repository', name: 'library/shared', actions: ['pull'] }])}`,
            },
          }),
        ),
      );
      assert.ok(jobs.every((j) => j.state === 'SUCCESS'));
      for (const d of img.pulled)
        assert.equal(w.registries.token.blobGets('library/shared', d), 1, `registry GETs of ${d}`);
    } finally {
      for (const s of w.seeds) s.delayMs = 0;
    }
  });

  it('honours concurrent_task_count and the job timeout', async () => {
    const { image, push } = await import('../support/images');
    const img = await image({ layers: 4 });
    await push(w.registries.open.host, 'library/limits', 'v1', img);
    for (const s of w.seeds) {
      s.delayMs = 150;
      s.maxInFlight = 0;
    }
    try {
      const job = await run({
        url: w.url('open', 'library/limits'),
        scope: 'all_seed_peers',
        concurrent_task_count: 1,
        concurrent_peer_count: 1,
      });
      assert.equal(job.state, 'SUCCESS');
      assert.deepEqual(
        w.seeds.map((s) => s.maxInFlight),
        [1, 1],
        'one download at a time per seed peer',
      );
      const slow = await image();
      await push(w.registries.open.host, 'library/slow', 'v1', slow);
      for (const s of w.seeds) s.delayMs = 3000;
      const late = await run({ url: w.url('open', 'library/slow'), timeout: 1e9 });
      assert.equal(late.state, 'FAILURE');
      assert.match(late.result!.job_states[0].error, /did not finish before the job timeout/);
    } finally {
      for (const s of w.seeds) s.delayMs = 0;
    }
  });

  it('jobs list newest first with Dragonfly Link pagination, and can be deleted', async () => {
    const page = await w.gateway.http<JobBody[]>('GET', '/oapi/v1/jobs?page=1&per_page=2', {
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(page.status, 200);
    assert.equal(page.json.length, 2);
    assert.ok(page.json[0].id > page.json[1].id);
    const link = String(page.headers.link);
    assert.match(
      link,
      /^<http:\/\/127\.0\.0\.1:\d+\/oapi\/v1\/jobs\?page=1&per_page=2>;rel=prev,<[^>]+page=2&per_page=2>;rel=next,<[^>]+page=1&per_page=2>;rel=first,<[^>]+page=\d+&per_page=2>;rel=last$/,
    );
    const id = page.json[0].id;
    const del = await w.gateway.http('DELETE', `/oapi/v1/jobs/${id}`, { headers: { authorization: ROOT_BASIC } });
    assert.equal(del.status, 200);
    assert.equal(del.text, '');
    assert.equal(
      (await w.gateway.http('GET', `/oapi/v1/jobs/${id}`, { headers: { authorization: ROOT_BASIC } })).status,
      404,
    );
  });
});
