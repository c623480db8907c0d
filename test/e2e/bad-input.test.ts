import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, freePort } from '../support/env';
import { ROOT_BASIC } from '../support/gateway';
import { PreheatWorld } from '../support/fixture';

interface JobBody {
  id: number;
  state: string;
  result: {
    job_states: { error: string; results: { failure_tasks: { hostname: string; description: string }[] }[] }[];
  } | null;
}

describe('bad input and faults', () => {
  let w: PreheatWorld;
  const auth = { authorization: ROOT_BASIC };

  before(async () => {
    w = await PreheatWorld.start({ server: { bodyLimit: 64 * 1024 } });
  });
  after(async () => w?.stop());

  const jobCount = async () =>
    Number(
      /page=(\d+)&per_page=1>;rel=last/.exec(
        String((await w.gateway.http('GET', '/oapi/v1/jobs?per_page=1', { headers: auth })).headers.link),
      )?.[1] ?? -1,
    );

  async function waitJob(id: number): Promise<JobBody> {
    return eventually(
      async () => {
        const r = await w.gateway.http<JobBody>('GET', `/oapi/v1/jobs/${id}`, { headers: auth });
        return r.json.state === 'PENDING' ? undefined : r.json;
      },
      30_000,
      `job ${id}`,
    );
  }

  async function create(args: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return w.gateway.http<JobBody & { errors?: string; message?: string }>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', ...args }, ...extra },
      headers: auth,
    });
  }

  it('rejects malformed requests with 4xx in the Dragonfly shape and writes nothing', async () => {
    const before = await jobCount();
    const cases: [string, () => ReturnType<typeof create>, number, RegExp][] = [
      [
        'malformed JSON',
        () =>
          w.gateway.http('POST', '/oapi/v1/jobs', {
            raw: '{"type":"preheat",',
            headers: { ...auth, 'content-type': 'application/json' },
          }),
        422,
        /not valid JSON/,
      ],
      ['url of the wrong type', () => create({ url: 5 }), 422, /args\.url must be a string/],
      [
        'not a manifest URL',
        () => create({ url: `http://${w.registries.open.host}/v2/library/app/blobs/sha256:abc` }),
        422,
        /not a manifest URL/,
      ],
      [
        'unknown scope',
        () => create({ url: w.url('open', 'library/app'), scope: 'everywhere' }),
        422,
        /args\.scope must be one of/,
      ],
      [
        'no Content-Type and no body',
        () => w.gateway.http('POST', '/oapi/v1/jobs', { headers: auth }),
        422,
        /type must be a string/,
      ],
      ['a JSON array', () => w.gateway.http('POST', '/oapi/v1/jobs', { raw: '[1,2]', headers: auth }), 422, /type/],
      [
        'args that are not an object',
        () => w.gateway.http('POST', '/oapi/v1/jobs', { body: { type: 'preheat', args: 'x' }, headers: auth }),
        422,
        /args must be an object/,
      ],
      [
        'v1 body without url',
        () => w.gateway.http('POST', '/preheats', { body: { type: 'image' }, headers: auth }),
        422,
        /url must be a string/,
      ],
      [
        'Kraken body without events',
        () => w.gateway.http('POST', '/registry/notifications', { body: { Events: [{ Target: {} }] }, headers: auth }),
        422,
        /Url must be a string/,
      ],
      [
        'unknown job type',
        () => w.gateway.http('POST', '/oapi/v1/jobs', { body: { type: 'explode' }, headers: auth }),
        422,
        /Unknow type/,
      ],
      ['missing url', () => create({}), 422, /url is required/],
      [
        'registry not allowed',
        () => create({ url: 'https://evil.example.com/v2/x/manifests/latest' }),
        422,
        /not in the gateway's allowed registries/,
      ],
      [
        'cluster that does not exist',
        () => create({ url: w.url('open', 'library/app') }, { scheduler_cluster_ids: [42] }),
        404,
        /scheduler cluster 42 not found/,
      ],
      [
        'piece length out of range',
        () => create({ url: w.url('open', 'library/app'), piece_length: 1024 }),
        422,
        /piece_length/,
      ],
      [
        'oversize body',
        () => create({ url: w.url('open', 'library/app'), headers: { X: 'y'.repeat(100 * 1024) } }),
        413,
        /larger than 65536 bytes/,
      ],
    ];
    for (const [name, send, status, message] of cases) {
      const r = await send();
      assert.equal(r.status, status, `${name}: ${r.text}`);
      assert.match(r.text, message, name);
      assert.ok(
        r.json && ('errors' in (r.json as object) || 'message' in (r.json as object)),
        `${name}: JSON error body`,
      );
    }
    assert.equal(await jobCount(), before, 'no job was written');
  });

  it('answers unknown routes and ids with JSON 404s, never a redirect', async () => {
    const r = await w.gateway.http('GET', '/console/index.html');
    assert.equal(r.status, 404);
    assert.ok((r.json as { message: string }).message);
    assert.equal((await w.gateway.http('GET', '/oapi/v1/jobs/99999', { headers: auth })).status, 404);
    assert.equal((await w.gateway.http('GET', '/oapi/v1/jobs/abc', { headers: auth })).status, 422);
    assert.equal((await w.gateway.http('GET', '/preheats/nope', { headers: auth })).status, 404);
    const conv = await w.gateway.http('GET', '/oapi/v1/jobs', { base: w.gateway.conversionUrl, headers: auth });
    assert.equal(conv.status, 404);
    assert.deepEqual(conv.json, { code: 'ERR_INVALID_ENDPOINT', message: 'Endpoint not found' });
    assert.equal((await w.gateway.http('GET', '/api/v1/health', { base: w.gateway.conversionUrl })).text, 'Ok');
  });

  it('fails jobs with a readable reason for registry faults, and keeps working', async () => {
    const closed = await freePort();
    const unreachable = await waitJob(
      (await create({ url: `http://127.0.0.1:${closed}/v2/library/app/manifests/v1` })).json.id,
    );
    assert.equal(unreachable.state, 'FAILURE');
    assert.match(unreachable.result!.job_states[0].error, /registry 127\.0\.0\.1:\d+ is unreachable/);

    const denied = await waitJob((await create({ url: w.url('token', 'library/app') })).json.id);
    assert.equal(denied.state, 'FAILURE');
    assert.match(denied.result!.job_states[0].error, /denied anonymous access .* HTTP 401/);

    const expired = await waitJob(
      (
        await create({
          url: w.url('token', 'library/app'),
          headers: {
            Authorization: `Bearer ${w.registries.tokens.mint([{ type: 'repository', name: 'library/app', actions: ['pull'] }], -60)}`,
          },
        })
      ).json.id,
    );
    assert.equal(expired.state, 'FAILURE');
    assert.match(expired.result!.job_states[0].error, /denied the caller's token/);

    const missing = await waitJob((await create({ url: w.url('open', 'library/nothing-here') })).json.id);
    assert.equal(missing.state, 'FAILURE');
    assert.match(missing.result!.job_states[0].error, /not found/);

    const ok = await waitJob((await create({ url: w.url('open', 'library/app') })).json.id);
    assert.equal(ok.state, 'SUCCESS');
  });

  it('fails jobs when seed peers are missing or error mid-stream', async () => {
    for (const s of w.seeds) s.failWith = { code: grpc.status.INTERNAL, message: 'disk full' };
    try {
      const broken = await waitJob(
        (await create({ url: w.url('open', 'library/legacy'), scope: 'all_seed_peers' })).json.id,
      );
      assert.equal(broken.state, 'FAILURE');
      const failures = broken.result!.job_states.flatMap((s) => s.results.flatMap((r) => r.failure_tasks));
      assert.equal(failures.length, w.images.docker.pulled.length * 2);
      assert.ok(failures.every((f) => /failed the download: disk full/.test(f.description)));
    } finally {
      for (const s of w.seeds) s.failWith = undefined;
    }
    const ports = w.seeds.map((s) => s.port);
    await Promise.all(w.seeds.map((s) => s.stop()));
    try {
      const none = await waitJob(
        (await create({ url: w.url('open', 'library/legacy'), scope: 'single_seed_peer' })).json.id,
      );
      assert.equal(none.state, 'FAILURE');
      assert.match(
        none.result!.job_states[0].error,
        /no healthy seed peer in scheduler cluster 1 \(cluster-1\): seed-1 .*seed-2 .*failed the gRPC health check/,
      );
    } finally {
      await Promise.all(w.seeds.map((s, i) => s.start(ports[i])));
    }
    const ok = await waitJob(
      (await create({ url: w.url('open', 'library/legacy'), scope: 'single_seed_peer' })).json.id,
    );
    assert.equal(ok.state, 'SUCCESS', JSON.stringify(ok.result));
  });

  it('a registry added through the admin API is allowed at once, with its sealed credentials', async () => {
    const url = `http://localhost:${w.registries.basic.port}/v2/library/app/manifests/v1`;
    const refused = await create({ url });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /not in the gateway's allowed registries/);
    const added = await w.gateway.http('POST', '/api/v1/registries', {
      body: {
        host: `localhost:${w.registries.basic.port}`,
        username: 'puller',
        password: 'puller-secret',
        plain_http: true,
      },
      headers: auth,
    });
    assert.equal(added.status, 200, added.text);
    const job = await waitJob((await create({ url })).json.id);
    assert.equal(job.state, 'SUCCESS', JSON.stringify(job.result));
  });

  it('operators cancel a pending job and retry it', async () => {
    for (const s of w.seeds) s.delayMs = 1500;
    try {
      const id = (await create({ url: w.url('open', 'library/multi') })).json.id;
      const cancelled = await w.gateway.http<JobBody>('POST', `/api/v1/jobs/${id}/cancel`, { headers: auth });
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.json.state, 'FAILURE');
      assert.match(cancelled.json.result!.job_states[0].error, /cancelled by root/);
      // The worker finishing later does not overwrite the cancellation.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(
        (await w.gateway.http<JobBody>('GET', `/oapi/v1/jobs/${id}`, { headers: auth })).json.state,
        'FAILURE',
      );
    } finally {
      for (const s of w.seeds) s.delayMs = 0;
    }
    const failed = await waitJob(
      (await create({ url: w.url('open', 'library/multi'), platform: 'linux/s390x' })).json.id,
    );
    const retried = await w.gateway.http<JobBody>('POST', `/api/v1/jobs/${failed.id}/retry`, { headers: auth });
    assert.equal(retried.status, 200);
    assert.notEqual(retried.json.id, failed.id);
    assert.equal((await waitJob(retried.json.id)).state, 'FAILURE', 'same arguments, same outcome');
  });

  it("never echoes the caller's registry token", async () => {
    const secret = w.registries.tokens.mint([{ type: 'repository', name: 'library/app', actions: ['pull'] }]);
    const r = await create({ url: w.url('token', 'library/app'), headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(r.status, 200);
    const job = await waitJob(r.json.id);
    const text = (await w.gateway.http('GET', `/oapi/v1/jobs/${job.id}`, { headers: auth })).text;
    assert.ok(!text.includes(secret));
    assert.match(text, /"Authorization":"\[redacted\]"/);
  });
});
