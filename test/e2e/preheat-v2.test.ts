import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PreheatWorld } from '../support/fixture';
import { HarborSim } from '../support/harbor';

describe('Harbor 2.13+ (Dragonfly v2 dialect) with OAUTH', () => {
  let w: PreheatWorld;
  let token: string;

  before(async () => {
    w = await PreheatWorld.start();
    token = await w.gateway.token(['job']);
  });
  after(async () => w?.stop());

  const harbor = (version: '2.12' | '2.13' | '2.15' = '2.13') =>
    new HarborSim(version, { endpoint: w.gateway.url, vendor: 'dragonfly', authMode: 'OAUTH', authInfo: { token } });

  const candidate = (repository: string) => ({
    externalUrl: `http://${w.registries.token.host}`,
    repository,
    tag: 'v1',
    digest: 'sha256:unused',
    jwt: w.registries.tokens.mint([{ type: 'repository', name: repository, actions: ['pull'] }]),
  });

  it('preheats a multi-arch image into every seed peer (all_seed_peers) and lists every blob per host', async () => {
    const started = Date.now();
    const out = await harbor().preheat(candidate('library/multi'), { scope: 'all_seed_peers' });
    assert.equal(out.status, 'Success', out.error);
    const amd64 = w.images.multi.images[0];
    for (const seed of w.seeds) {
      assert.deepEqual(
        new Set(w.fetchedDigests(seed)),
        new Set(amd64.pulled),
        `${seed.hostname} holds the linux/amd64 blobs`,
      );
      assert.ok(
        seed.fetches.every((f) => f.authorization?.startsWith('Bearer ')),
        'Harbor token forwarded to the seed peer',
      );
    }
    const results = (
      out.job as {
        result: {
          job_states: { results: { success_tasks: { url: string; hostname: string }[]; failure_tasks: unknown[] }[] }[];
        };
      }
    ).result;
    const success = results.job_states.flatMap((s) => s.results.flatMap((r) => r.success_tasks));
    assert.equal(success.length, amd64.pulled.length * 2);
    for (const seed of w.seeds) {
      for (const d of amd64.pulled)
        assert.ok(
          success.some((t) => t.hostname === seed.hostname && t.url.endsWith(d)),
          `${seed.hostname} ${d}`,
        );
    }
    assert.equal(out.log.filter((l) => l.includes('\tSUCCESS\t')).length, amd64.pulled.length * 2);
    // The Download message carries what the Dragonfly scheduler sends for a preheat.
    const sent = w.seeds[0].requests.at(-1)!.download as Record<string, unknown>;
    assert.equal(sent.type, 'STANDARD');
    assert.equal(sent.priority, 'LEVEL0');
    assert.match(String(sent.url), /\/v2\/library\/multi\/blobs\/sha256:/);
    assert.ok((sent.filtered_query_params as string[]).includes('X-Amz-Signature'));
    assert.match(String((sent.request_header as Record<string, string>).Authorization), /^Bearer /);
    const timeout = sent.timeout as { seconds: number };
    assert.ok(timeout.seconds > 3500 && timeout.seconds <= 3600, `timeout ${timeout.seconds}s is the 60 min default`);
    console.log(`preheat of a 2-platform index into 2 seed peers took ${Date.now() - started} ms (${out.polls} polls)`);
  });

  it('ends FAILURE naming the seed peer that is down', async () => {
    const down = w.seeds[1];
    const port = down.port;
    await down.stop();
    try {
      const out = await harbor('2.15').preheat(candidate('library/app'), { scope: 'all_seed_peers' });
      assert.equal(out.status, 'Error');
      assert.match(out.error ?? '', /seed-2/);
      const job = out.job as {
        state: string;
        result: {
          job_states: {
            results: {
              failure_tasks: { hostname: string; description: string }[];
              success_tasks: { hostname: string }[];
            }[];
          }[];
        };
      };
      assert.equal(job.state, 'FAILURE');
      const failures = job.result.job_states.flatMap((s) => s.results.flatMap((r) => r.failure_tasks));
      assert.equal(failures.length, w.images.single.pulled.length);
      assert.ok(failures.every((f) => f.hostname === 'seed-2' && /unreachable/.test(f.description)));
      const success = job.result.job_states.flatMap((s) => s.results.flatMap((r) => r.success_tasks));
      assert.ok(success.every((t) => t.hostname === 'seed-1'));
    } finally {
      await down.start(port);
    }
  });
});
