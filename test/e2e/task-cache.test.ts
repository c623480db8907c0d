import { TaskHolder } from '@accel/db';
import { computeTaskId, DEFAULT_FILTERED_QUERY_PARAMS } from '@accel/dragonfly';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/env';
import { PreheatWorld } from '../support/fixture';
import { ROOT_BASIC } from '../support/gateway';

interface Job {
  id: number;
  type: string;
  state: string;
  args: Record<string, unknown>;
  result: {
    state: string;
    job_states: { task_name: string; state: string; error: string; results: Record<string, unknown>[] }[];
  } | null;
}

describe("Dragonfly's get_task, delete_task, get_image_distribution and sync_peers against the reference hosts", () => {
  let w: PreheatWorld;
  let token: string;
  let layerUrl: string;

  before(async () => {
    // sync_peers every 0.6 s, so the timer's work can be seen.
    w = await PreheatWorld.start({ preheat: { syncPeersIntervalMinutes: 0.01 } });
    token = await w.gateway.token(['job']);
    const layer = w.images.single.blobs[1];
    layerUrl = `http://${w.registries.open.host}/v2/library/app/blobs/${layer.digest}`;
  });
  after(async () => w?.stop());

  const auth = () => ({ authorization: `Bearer ${token}` });

  async function runJob(body: Record<string, unknown>): Promise<Job> {
    const r = await w.gateway.http<Job>('POST', '/oapi/v1/jobs', { body, headers: auth() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'PENDING');
    return eventually(async () => {
      const j = (await w.gateway.http<Job>('GET', `/oapi/v1/jobs/${r.json.id}`, { headers: auth() })).json;
      return j.state === 'PENDING' ? undefined : j;
    });
  }

  async function preheatSeeds(): Promise<void> {
    const done = await runJob({
      type: 'preheat',
      args: { type: 'image', url: w.url('open', 'library/app'), scope: 'all_seed_peers' },
    });
    assert.equal(done.state, 'SUCCESS', JSON.stringify(done.result));
  }

  const holders = (job: Job) => job.result!.job_states[0].results[0].peers as TaskHolder[];

  it('get_task after a preheat lists exactly the hosts that downloaded, in Dragonfly’s shape', async () => {
    await preheatSeeds();
    const job = await runJob({ type: 'get_task', args: { url: layerUrl } });
    assert.equal(job.state, 'SUCCESS', JSON.stringify(job.result));
    assert.equal(job.type, 'get_task');
    // Stored args: Dragonfly's GetTaskArgs with its defaults filled in.
    assert.deepEqual(job.args, {
      task_id: '',
      url: layerUrl,
      piece_length: null,
      tag: '',
      application: '',
      filtered_query_params: DEFAULT_FILTERED_QUERY_PARAMS.join('&'),
      content_for_calculating_task_id: null,
      concurrent_peer_count: 500,
      timeout: 3_600_000_000_000,
    });
    const entry = job.result!.job_states[0];
    assert.equal(entry.task_name, 'get_task');
    assert.deepEqual(Object.keys(entry.results[0]).sort(), ['failed_hosts', 'peers', 'scheduler_cluster_id']);
    assert.equal(entry.results[0].scheduler_cluster_id, 1);
    const peers = holders(job);
    assert.deepEqual(peers.map((p) => p.hostname).sort(), ['seed-1', 'seed-2'], 'the normal peers never fetched it');
    for (const p of peers) {
      assert.deepEqual(Object.keys(p), ['id', 'hostname', 'ip', 'host_type', 'created_at', 'updated_at', 'IsFinished']);
      assert.equal(p.host_type, 'super');
      assert.equal(p.id, `127.0.0.1-${p.hostname}-seed`);
      assert.equal(p.IsFinished, true);
      assert.ok(Date.parse(p.created_at) > Date.now() - 120_000, p.created_at);
    }
    // Every host of the cluster was asked: the scheduler's normal peers too.
    const taskId = computeTaskId({ url: layerUrl, filteredQueryParams: DEFAULT_FILTERED_QUERY_PARAMS });
    for (const h of [...w.seeds, ...w.peers]) assert.ok(h.stats.includes(taskId), `${h.hostname} was asked`);
  });

  it('get_task by task_id and by content name the same task, or none', async () => {
    const taskId = computeTaskId({ url: layerUrl, filteredQueryParams: DEFAULT_FILTERED_QUERY_PARAMS });
    const byId = await runJob({ type: 'get_task', args: { task_id: taskId } });
    assert.deepEqual(
      holders(byId)
        .map((p) => p.hostname)
        .sort(),
      ['seed-1', 'seed-2'],
    );
    const byContent = await runJob({ type: 'get_task', args: { content_for_calculating_task_id: 'nothing cached' } });
    assert.equal(byContent.state, 'SUCCESS');
    assert.deepEqual(holders(byContent), []);
  });

  it('delete_task evicts it from every host that holds it; get_task then lists none; a new preheat fetches again', async () => {
    const before = w.fetchedDigests(w.seeds[0]).length;
    const del = await runJob({ type: 'delete_task', args: { url: layerUrl } });
    assert.equal(del.state, 'SUCCESS', JSON.stringify(del.result));
    assert.equal(del.result!.job_states[0].task_name, 'delete_task');
    const r = del.result!.job_states[0].results[0];
    assert.deepEqual(Object.keys(r).sort(), ['failure_tasks', 'scheduler_cluster_id', 'success_tasks']);
    assert.deepEqual(
      (r.success_tasks as Record<string, string>[]).sort((a, b) => a.hostname.localeCompare(b.hostname)),
      [
        { hostname: 'seed-1', ip: '127.0.0.1', host_type: 'super' },
        { hostname: 'seed-2', ip: '127.0.0.1', host_type: 'super' },
      ],
    );
    assert.deepEqual(r.failure_tasks, []);
    assert.equal(del.args.concurrent_peer_count, undefined, "Dragonfly's DeleteTaskArgs has no peer concurrency");
    assert.deepEqual(holders(await runJob({ type: 'get_task', args: { url: layerUrl } })), []);
    await preheatSeeds();
    const layer = w.images.single.blobs[1].digest;
    assert.equal(
      w.fetchedDigests(w.seeds[0]).filter((d) => d === layer).length,
      2,
      'the evicted layer came from the registry again',
    );
    assert.ok(w.fetchedDigests(w.seeds[0]).length > before);
  });

  it('a host that cannot be asked is named: delete_task fails it, get_task lists it apart', async () => {
    await preheatSeeds();
    w.seeds[1].failWith = { code: grpc.status.UNAVAILABLE, message: 'disk on fire' };
    try {
      const get = await runJob({ type: 'get_task', args: { url: layerUrl } });
      assert.deepEqual(
        holders(get).map((p) => p.hostname),
        ['seed-1'],
      );
      const failed = get.result!.job_states[0].results[0].failed_hosts as { hostname: string; description: string }[];
      assert.deepEqual(
        failed.map((f) => f.hostname),
        ['seed-2'],
      );
      assert.match(failed[0].description, /disk on fire/);
      const del = await runJob({ type: 'delete_task', args: { url: layerUrl } });
      const r = del.result!.job_states[0].results[0] as {
        success_tasks: { hostname: string }[];
        failure_tasks: { hostname: string; host_type: string; description: string }[];
      };
      assert.deepEqual(
        r.success_tasks.map((t) => t.hostname),
        ['seed-1'],
      );
      assert.equal(r.failure_tasks[0].hostname, 'seed-2');
      assert.equal(r.failure_tasks[0].host_type, 'super');
      assert.match(r.failure_tasks[0].description, /disk on fire/);
    } finally {
      w.seeds[1].failWith = undefined;
    }
  });

  it('bad requests are 422 in Dragonfly’s shape; unknown clusters 404', async () => {
    for (const args of [
      undefined,
      {},
      { tag: 'x' },
      { url: 5 },
      { piece_length: 1 },
      { concurrent_peer_count: 5000 },
    ]) {
      const r = await w.gateway.http<{ errors: string }>('POST', '/oapi/v1/jobs', {
        body: { type: 'get_task', args },
        headers: auth(),
      });
      assert.equal(r.status, 422, `${JSON.stringify(args)}: ${r.text}`);
      assert.equal(typeof r.json.errors, 'string');
    }
    const missing = await w.gateway.http<{ message: string }>('POST', '/oapi/v1/jobs', {
      body: { type: 'delete_task', args: { url: layerUrl }, scheduler_cluster_ids: [99] },
      headers: auth(),
    });
    assert.equal(missing.status, 404, missing.text);
  });

  it('get_image_distribution: which blobs of an image each normal peer holds, synchronously, in Dragonfly’s shape', async () => {
    const done = await runJob({
      type: 'preheat',
      args: { type: 'image', url: w.url('open', 'library/multi'), scope: 'all_peers', ips: ['127.0.0.2'] },
    });
    assert.equal(done.state, 'SUCCESS', JSON.stringify(done.result));
    const ask = (platform?: string) =>
      w.gateway.http<{
        image: { layers: { url: string }[] };
        peers: { ip: string; hostname: string; cached_layers: { url: string }[]; scheduler_cluster_id: number }[];
      }>('POST', '/oapi/v1/jobs', {
        body: { type: 'get_image_distribution', args: { url: w.url('open', 'library/multi'), platform } },
        headers: auth(),
      });
    const amd = await ask();
    assert.equal(amd.status, 200, amd.text);
    assert.deepEqual(Object.keys(amd.json).sort(), ['image', 'peers']);
    const amdBlobs = w.images.multi.images[0].pulled;
    assert.deepEqual(
      amd.json.image.layers.map((l) => l.url.slice(l.url.lastIndexOf('/') + 1)),
      amdBlobs,
      'config and layers of the default platform',
    );
    // Only normal peers (never seed peers), only those holding something.
    assert.deepEqual(amd.json.peers, [
      {
        ip: '127.0.0.2',
        hostname: 'peer-1',
        cached_layers: amd.json.image.layers,
        scheduler_cluster_id: 1,
      },
    ]);
    const arm = await ask('linux/arm64');
    assert.equal(arm.status, 200, arm.text);
    assert.equal(arm.json.image.layers.length, w.images.multi.images[1].pulled.length);
    assert.deepEqual(arm.json.peers, [], 'nothing of arm64 was preheated');
    const none = await w.gateway.http<{ errors: string }>('POST', '/oapi/v1/jobs', {
      body: { type: 'get_image_distribution', args: {} },
      headers: auth(),
    });
    assert.equal(none.status, 422);
    const absent = await ask('linux/s390x');
    assert.equal(absent.status, 422, absent.text);
    assert.match(absent.text, /no matching manifest for platform linux\/s390x/);
  });

  it('sync_peers keeps the peers table as the scheduler lists it; the timer does the same; /api/v1/peers lists them', async () => {
    const r = await w.gateway.http('POST', '/oapi/v1/jobs', {
      body: { type: 'sync_peers', scheduler_cluster_ids: [1] },
      headers: auth(),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '"OK"');
    assert.match(String(r.headers['content-type']), /^application\/json/);
    type Peer = Record<string, unknown> & { id: number; host_name: string; type: string };
    const list = async () =>
      (await w.gateway.http<Peer[]>('GET', '/api/v1/peers?per_page=100', { headers: { authorization: ROOT_BASIC } }))
        .json;
    const peers = await list();
    assert.deepEqual(peers.map((p) => `${p.host_name}:${p.type}`).sort(), [
      'peer-1:normal',
      'peer-2:normal',
      'peer-3:normal',
      'seed-1:super',
      'seed-2:super',
    ]);
    for (const key of [
      'host_name',
      'type',
      'idc',
      'location',
      'ip',
      'port',
      'download_port',
      'proxy_port',
      'state',
      'os',
      'platform',
      'git_version',
      'git_commit',
      'scheduler_cluster_id',
      'created_at',
      'updated_at',
    ])
      assert.ok(key in peers[0], `peer field ${key}`);
    assert.equal(peers.find((p) => p.host_name === 'peer-2')!.ip, '127.0.0.3');
    // A host the scheduler no longer lists leaves the table at the next (timed) sync.
    const saved = w.scheduler.hosts;
    w.scheduler.hosts = saved.filter((h) => h.hostname !== 'peer-3');
    try {
      await eventually(async () => ((await list()).some((p) => p.host_name === 'peer-3') ? undefined : true), 10_000);
    } finally {
      w.scheduler.hosts = saved;
    }
    const one = peers.find((p) => p.host_name === 'seed-1')!;
    const got = await w.gateway.http<Peer>('GET', `/api/v1/peers/${one.id}`, {
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(got.json.host_name, 'seed-1');
    assert.equal(
      (await w.gateway.http('GET', '/api/v1/peers/999999', { headers: { authorization: ROOT_BASIC } })).status,
      404,
    );
    assert.equal(
      (await w.gateway.http('GET', '/api/v1/peers', { headers: auth() })).status,
      403,
      'a job token is no admin',
    );
  });
});
