import assert from 'node:assert/strict';
import { Server, Socket, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, sleep } from '../support/env';
import { ROOT_BASIC } from '../support/gateway';
import { LoopbackServer } from '../support/hostile';
import { PreheatWorld } from '../support/fixture';

interface JobBody {
  id: number;
  state: string;
  result?: {
    job_states: {
      state: string;
      error: string;
      results: {
        scheduler_cluster_id: number;
        success_tasks: { hostname: string }[];
        failure_tasks: { hostname: string; description: string }[];
      }[];
    }[];
    skipped_scheduler_clusters?: { scheduler_cluster_id: number; name: string; reason: string }[];
  };
}

/** A TCP listener that accepts connections and never answers: a frozen gRPC peer. */
async function frozenListener(): Promise<{ port: number; sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    sockets,
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    },
  };
}

describe('preheat results stay true under faults', () => {
  let w: PreheatWorld;

  before(async () => {
    w = await PreheatWorld.start({
      registry: { timeoutMs: 3000 },
      preheat: { downloadShareSeconds: 2, peerConnectTimeoutMs: 1000, peerIdleTimeoutMs: 1500 },
    });
  });
  after(async () => w?.stop());

  async function create(args: Record<string, unknown>, clusterIds?: number[]): Promise<number> {
    const created = await w.gateway.http<JobBody>('POST', '/oapi/v1/jobs', {
      body: {
        type: 'preheat',
        args: { type: 'image', url: w.url('open', 'library/app'), ...args },
        ...(clusterIds ? { scheduler_cluster_ids: clusterIds } : {}),
      },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(created.status, 200, created.text);
    return created.json.id;
  }

  const finished = (id: number, timeoutMs = 60_000) =>
    eventually(
      async () => {
        const r = await w.gateway.http<JobBody>('GET', `/oapi/v1/jobs/${id}`, {
          headers: { authorization: ROOT_BASIC },
        });
        return r.json.state === 'PENDING' ? undefined : r.json;
      },
      timeoutMs,
      `job ${id}`,
    );

  async function preheat(args: Record<string, unknown>, clusterIds?: number[]): Promise<{ job: JobBody; ms: number }> {
    const started = Date.now();
    const job = await finished(await create(args, clusterIds));
    return { job, ms: Date.now() - started };
  }

  it('1. a finished download is not shared after preheat.downloadShareSeconds, even with nothing else running', async () => {
    const first = await preheat({ scope: 'all_seed_peers' });
    assert.equal(first.job.state, 'SUCCESS', JSON.stringify(first.job.result));
    // The seed peers restart with empty caches; then the gateway stays idle past the window.
    await Promise.all(
      w.seeds.map(async (s) => {
        const port = s.port;
        await s.stop();
        await s.start(port);
      }),
    );
    const before = w.seeds.map((s) => s.requests.length);
    await sleep(2_500);
    const second = await preheat({ scope: 'all_seed_peers' });
    assert.equal(second.job.state, 'SUCCESS', JSON.stringify(second.job.result));
    const blobs = w.images.single.pulled.length;
    w.seeds.forEach((s, i) =>
      assert.equal(s.requests.length - before[i], blobs, `${s.hostname} was asked for every blob again`),
    );
    for (const s of w.seeds) {
      const fresh = s.fetches.slice(-blobs);
      assert.ok(
        fresh.every((f) => !f.cached && f.digestOk),
        `${s.hostname} fetched every blob from the registry again`,
      );
    }
  });

  it('4. a cluster that cannot serve is skipped and reported when the caller named none; a named one still counts', async () => {
    await w.gateway.addCluster(2, 'empty-cluster');
    await w.gateway.addCluster(3, 'dead-seed-cluster');
    const closed = await frozenListener();
    const deadPort = closed.port;
    await closed.close(); // nothing listens there any more
    await w.gateway.addSeedPeer(3, 'dead-seed', deadPort);

    const anyCluster = await preheat({});
    assert.equal(anyCluster.job.state, 'SUCCESS', JSON.stringify(anyCluster.job.result));
    const skipped = anyCluster.job.result!.skipped_scheduler_clusters ?? [];
    assert.deepEqual(skipped.map((c) => c.scheduler_cluster_id).sort(), [2, 3]);
    assert.match(skipped.find((c) => c.scheduler_cluster_id === 2)!.reason, /has no seed peers/);
    assert.match(skipped.find((c) => c.scheduler_cluster_id === 3)!.reason, /dead-seed/);
    const served = anyCluster.job.result!.job_states.flatMap((s) => s.results);
    assert.deepEqual(
      served.map((r) => r.scheduler_cluster_id),
      [1],
    );
    assert.equal(served[0].success_tasks.length, w.images.single.pulled.length);

    const named = await preheat({}, [1, 2]);
    assert.equal(named.job.state, 'FAILURE');
    assert.match(
      named.job.result!.job_states.map((s) => s.error).join(' '),
      /scheduler cluster 2 \(empty-cluster\) has no seed peers/,
    );

    const none = await preheat({}, [3]);
    assert.equal(none.job.state, 'FAILURE');
    assert.match(none.job.result!.job_states[0].error, /dead-seed/);
  });

  it('3. a seed peer that accepts TCP but never answers gRPC fails the job in seconds, naming the host', async () => {
    const frozen = await frozenListener();
    try {
      await w.gateway.addSeedPeer(1, 'frozen-seed', frozen.port);
      const out = await preheat({ scope: 'all_seed_peers', timeout: 120_000_000_000 }, [1]);
      assert.equal(out.job.state, 'FAILURE');
      assert.ok(frozen.sockets.length > 0, 'the gateway did connect to the frozen peer');
      assert.ok(out.ms < 15_000, `ended after ${out.ms} ms (job timeout 120 s)`);
      const failures = out.job.result!.job_states.flatMap((s) => s.results.flatMap((r) => r.failure_tasks));
      assert.equal(failures.length, w.images.single.pulled.length);
      assert.ok(
        failures.every((f) => f.hostname === 'frozen-seed' && /frozen-seed \(127\.0\.0\.1:\d+\)/.test(f.description)),
        JSON.stringify(failures),
      );
      const ok = out.job.result!.job_states.flatMap((s) => s.results.flatMap((r) => r.success_tasks));
      assert.equal(ok.length, w.images.single.pulled.length * 2, 'the working seed peers still got every blob');
    } finally {
      await frozen.close();
    }
  });

  it('5. a registry that trickles its manifest holds no job past registry.timeoutMs, and leaves slots for other registries', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const trickle = await new LoopbackServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '400' });
      const t = setInterval(() => res.write('{'), 1000);
      timers.add(t);
      res.on('close', () => (clearInterval(t), timers.delete(t)));
    }).start();
    try {
      const slow = await Promise.all(
        Array.from({ length: 40 }, (_, i) => create({ url: `http://${trickle.host}/v2/slow/app-${i}/manifests/v1` })),
      );
      await sleep(500);
      const started = Date.now();
      const other = await finished(await create({ tag: 'unrelated' }), 20_000);
      const otherMs = Date.now() - started;
      assert.equal(other.state, 'SUCCESS', JSON.stringify(other.result));
      assert.ok(otherMs < 5_000, `an unrelated preheat took ${otherMs} ms behind 40 trickled ones`);
      const ends = await Promise.all(slow.map((id) => finished(id, 90_000)));
      assert.ok(ends.every((j) => j.state === 'FAILURE'));
      for (const j of ends) assert.match(j.result!.job_states[0].error, /did not finish \(too slow or stalled\)/);
      console.log(
        `trickling registry: unrelated preheat SUCCESS in ${otherMs} ms; 40 trickled jobs FAILURE within ${Date.now() - started} ms`,
      );
    } finally {
      timers.forEach(clearInterval);
      await trickle.stop();
    }
  });
});
