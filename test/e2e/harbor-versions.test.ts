import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/env';
import { ROOT_BASIC } from '../support/gateway';
import { PreheatWorld } from '../support/fixture';
import { Candidate, HarborSim, HarborVersion } from '../support/harbor';

describe('Harbor 2.1–2.11 (Dragonfly v1 dialect, auth NONE) and Kraken', () => {
  let w: PreheatWorld;

  before(async () => {
    // Auth mode NONE for every Harbor that can use it: 2.1–2.11 (legacy routes) and 2.12+ (create and poll).
    w = await PreheatWorld.start({ auth: { allowAnonymous: true, allowAnonymousJobApi: true } });
  });
  after(async () => w?.stop());

  const candidate = (repository: string, registry: 'token' | 'basic' = 'token'): Candidate => ({
    externalUrl: `http://${w.registries[registry].host}`,
    repository,
    tag: 'v1',
    digest: 'sha256:unused',
    jwt: w.registries.tokens.mint([{ type: 'repository', name: repository, actions: ['pull'] }]),
  });
  const v1 = (version: HarborVersion) =>
    new HarborSim(version, { endpoint: w.gateway.url, vendor: 'dragonfly', authMode: 'NONE' });

  for (const version of ['2.1', '2.3', '2.8', '2.11'] as HarborVersion[]) {
    it(`Harbor ${version} polls /preheats/:id to SUCCESS and the blobs land on a seed peer`, async () => {
      // A fresh image per version, so none is answered from the dedupe window.
      const repo = `v1/app-${version.replace('.', '-')}`;
      const { image, push } = await import('../support/images');
      const img = await image();
      await push(w.registries.open.host, repo, 'v1', img);
      const out = await v1(version).preheat(candidate(repo));
      assert.equal(out.status, 'Success', out.error);
      assert.match(out.taskId ?? '', /^\d+$/);
      assert.ok(out.polls >= 1);
      const fetched = new Set(w.seeds.flatMap((s) => w.fetchedDigests(s)));
      for (const d of img.pulled) assert.ok(fetched.has(d), `blob ${d} preheated`);
    });
  }

  it('Harbor 2.12 with auth NONE and scope single_peer reaches SUCCESS', async () => {
    const harbor = new HarborSim('2.12', { endpoint: w.gateway.url, vendor: 'dragonfly', authMode: 'NONE' });
    const out = await harbor.preheat(candidate('library/multi'), { scope: 'single_peer' });
    assert.equal(out.status, 'Success', out.error);
    const rows = out.log.filter((l) => l.includes('\tSUCCESS\t'));
    assert.equal(rows.length, w.images.multi.images[0].pulled.length, 'one seed peer per blob');
  });

  it('answers 208 for an image preheated within the window: 2.3+ stops at once, 2.1 polls the earlier job', async () => {
    const first = await v1('2.8').preheat(candidate('library/legacy'));
    assert.equal(first.status, 'Success', first.error);
    const again = await v1('2.3').preheat(candidate('library/legacy'));
    assert.equal(again.status, 'Success');
    assert.equal(again.polls, 0);
    assert.equal(again.taskId, first.taskId);
    const old = await v1('2.1').preheat(candidate('library/legacy'));
    assert.equal(old.status, 'Success', old.error);
    assert.equal(old.taskId, first.taskId);
    assert.ok(old.polls >= 1);
  });

  it('a tag pushed again within the dedupe window is preheated again: 208 only for the same digest', async () => {
    const { image, push } = await import('../support/images');
    const repo = 'v1/moving';
    const before = await image();
    await push(w.registries.open.host, repo, 'v1', before);
    const first = await v1('2.8').preheat({ ...candidate(repo), digest: before.digest });
    assert.equal(first.status, 'Success', first.error);
    const same = await v1('2.8').preheat({ ...candidate(repo), digest: before.digest });
    assert.equal(same.taskId, first.taskId, 'same digest: the earlier job');
    const after = await image();
    await push(w.registries.open.host, repo, 'v1', after);
    const moved = await v1('2.8').preheat({ ...candidate(repo), digest: after.digest });
    assert.equal(moved.status, 'Success', moved.error);
    assert.notEqual(moved.taskId, first.taskId, 'new content under the tag is a new job');
    assert.ok(moved.polls >= 1);
    const fetched = new Set(w.seeds.flatMap((s) => w.fetchedDigests(s)));
    for (const d of after.pulled) assert.ok(fetched.has(d), `blob ${d} of the new content preheated`);
  });

  it('reports a missing image as FAIL (never FAILED, which Harbor < 2.8 polls for 30 minutes)', async () => {
    const out = await v1('2.3').preheat({ ...candidate('library/app'), tag: 'no-such-tag' });
    assert.equal(out.status, 'Error');
    assert.match(out.error ?? '', /preheat failed: .*not found/);
  });

  it('Kraken: Harbor concludes SUCCESS at once; the gateway reads the image with its own credentials', async () => {
    const kraken = new HarborSim('2.11', { endpoint: w.gateway.url, vendor: 'kraken', authMode: 'NONE' });
    const before = w.seeds.map((s) => s.fetches.length);
    const out = await kraken.preheat(candidate('library/app', 'basic'));
    assert.equal(out.status, 'Success', out.error);
    assert.equal(out.polls, 0);
    const job = await eventually(
      async () => {
        // Listing jobs is never anonymous.
        const jobs = (
          await w.gateway.http<{ state: string; args: { url: string }; result: unknown }[]>(
            'GET',
            '/oapi/v1/jobs?per_page=1',
            { headers: { authorization: ROOT_BASIC } },
          )
        ).json;
        return jobs[0]?.args.url.includes(w.registries.basic.host) && jobs[0].state !== 'PENDING' ? jobs[0] : undefined;
      },
      20_000,
      'kraken preheat',
    );
    assert.equal(job.state, 'SUCCESS', JSON.stringify(job.result));
    const fetches = w.seeds
      .flatMap((s, i) => s.fetches.slice(before[i]))
      .filter((x) => x.url.includes(w.registries.basic.host) && x.digestOk);
    assert.equal(fetches.length, w.images.single.pulled.length);
    assert.ok(
      fetches.every((f) => f.authorization?.startsWith('Basic ')),
      'seed peer read the basic-auth registry with the configured credentials',
    );
  });
});

describe('provider authentication', () => {
  let w: PreheatWorld;

  before(async () => {
    w = await PreheatWorld.start({ auth: { custom: { header: 'X-Preheat-Key', value: 'custom-secret' } } });
  });
  after(async () => w?.stop());

  const body = () => ({ type: 'preheat', args: { type: 'image', url: w.url('open', 'library/app') } });
  const post = (headers: Record<string, string>) =>
    w.gateway.http<{ message?: string; id?: number }>('POST', '/oapi/v1/jobs', { body: body(), headers });

  it('OAUTH: a job-scoped token creates jobs, also as ?access_token=', async () => {
    const token = await w.gateway.token(['job']);
    assert.equal((await post({ authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await w.gateway.http('GET', `/oapi/v1/jobs?access_token=${token}`)).status, 200);
  });

  it('401 for a missing, unknown or malformed credential; anonymous is off by default', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer acc_nope' },
      { authorization: 'Token abc' },
      { authorization: 'Basic !!!' },
    ]) {
      const r = await post(headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.deepEqual(r.json, { message: 'Unauthorized' });
    }
  });

  it('403 for an expired, inactive-owner or out-of-scope token', async () => {
    const clusterOnly = await w.gateway.token(['cluster']);
    const r = await post({ authorization: `Bearer ${clusterOnly}` });
    assert.equal(r.status, 403);
    assert.equal(r.json.message, "Token doesn't have permission to access this resource. Required permission: job");
    const expired = await w.gateway.token(['job'], { expired_at: new Date(Date.now() - 1000).toISOString() });
    const e = await post({ authorization: `Bearer ${expired}` });
    assert.equal(e.status, 403);
    assert.equal(e.json.message, 'Token has expired');
  });

  it('BASIC: a gateway user works; the UI quirk `username:<user>` never does', async () => {
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    assert.equal((await post(basic('root', 'root-password-for-tests'))).status, 200);
    assert.equal((await post(basic('root', 'wrong'))).status, 401);
    assert.equal((await post(basic('username', 'root'))).status, 401);
    // A Harbor 2.13 instance created through the API with one key works every time.
    const harbor = new HarborSim('2.13', {
      endpoint: w.gateway.url,
      vendor: 'dragonfly',
      authMode: 'BASIC',
      authInfo: { root: 'root-password-for-tests' },
    });
    const out = await harbor.preheat({
      externalUrl: `http://${w.registries.open.host}`,
      repository: 'library/app',
      tag: 'v1',
      digest: '',
      jwt: 'unused',
    });
    assert.equal(out.status, 'Success', out.error);
  });

  it('CUSTOM: the configured header and value, compared exactly', async () => {
    assert.equal((await post({ 'X-Preheat-Key': 'custom-secret' })).status, 200);
    assert.equal((await post({ 'X-Preheat-Key': 'custom-secreT' })).status, 401);
    const harbor = new HarborSim('2.15', {
      endpoint: w.gateway.url,
      vendor: 'dragonfly',
      authMode: 'CUSTOM',
      authInfo: { 'X-Preheat-Key': 'custom-secret' },
    });
    const out = await harbor.preheat({
      externalUrl: `http://${w.registries.open.host}`,
      repository: 'library/app',
      tag: 'v1',
      digest: '',
      jwt: 'unused',
    });
    assert.equal(out.status, 'Success', out.error);
  });

  it('v1 and Kraken routes refuse anonymous callers unless auth.allowAnonymous is on', async () => {
    const v1 = new HarborSim('2.8', { endpoint: w.gateway.url, vendor: 'dragonfly', authMode: 'NONE' });
    const out = await v1.preheat({
      externalUrl: `http://${w.registries.open.host}`,
      repository: 'library/app',
      tag: 'v1',
      digest: '',
      jwt: 'x',
    });
    assert.equal(out.status, 'Error');
    assert.match(out.error ?? '', /POST .*\/preheats" error: 401/);
    assert.equal((await w.gateway.http('POST', '/registry/notifications', { body: { Events: [] } })).status, 401);
  });

  it('health paths answer without credentials', async () => {
    for (const p of ['/healthy', '/_ping', '/health']) {
      const r = await w.gateway.http('GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.json, 'OK');
    }
  });
});
