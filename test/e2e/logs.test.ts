import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/env';
import { PreheatWorld } from '../support/fixture';
import { ROOT_BASIC } from '../support/gateway';

interface Line {
  level: number;
  msg: string;
  requestId?: string;
  [k: string]: unknown;
}

describe('structured logs', () => {
  let w: PreheatWorld;
  const file = join(mkdtempSync(join(tmpdir(), 'accel-logs-')), 'gateway.log');
  const lines = (): Line[] =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);

  before(async () => {
    w = await PreheatWorld.start({ logFormat: 'json', logFile: file, logLevel: 'debug' });
  });
  after(async () => w?.stop());

  it('are JSON lines; a preheat carries the caller’s request id from the HTTP call through the queue into the worker, and no secret', async () => {
    const pullToken = 'harbor-pull-token-must-not-be-logged';
    const created = await w.gateway.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: {
        type: 'preheat',
        args: {
          type: 'image',
          url: w.url('open', 'library/app'),
          scope: 'all_seed_peers',
          headers: { Authorization: `Bearer ${pullToken}` },
        },
      },
      headers: { authorization: ROOT_BASIC, 'x-request-id': 'harbor-exec-42' },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.headers['x-request-id'], 'harbor-exec-42');
    const id = created.json.id;
    const finished = await eventually(() => {
      const done = lines().find((l) => new RegExp(`^job ${id} (SUCCESS|FAILURE)`).test(l.msg));
      return Promise.resolve(done);
    }, 60_000);
    assert.match(finished.msg, /SUCCESS/);
    assert.equal(finished.requestId, 'harbor-exec-42', 'the worker’s line names the request that queued the job');
    const all = lines();
    const ofTheRequest = all.filter((l) => l.requestId === 'harbor-exec-42');
    assert.ok(
      ofTheRequest.some((l) => (l.req as { path?: string } | undefined)?.path === '/oapi/v1/jobs'),
      'the HTTP answer is logged',
    );
    for (const l of all.filter((x) => x.msg.includes(`job ${id} `)))
      assert.equal(l.requestId, 'harbor-exec-42', `every line of job ${id} carries the id: ${l.msg}`);
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, new RegExp(pullToken));
    assert.doesNotMatch(text, /root-password-for-tests/);
    assert.doesNotMatch(text, new RegExp(ROOT_BASIC.split(' ')[1]));
  });

  it('a request without an id gets one, returned to the caller and on its lines', async () => {
    const r = await w.gateway.http('GET', '/oapi/v1/jobs/999999', { headers: { authorization: ROOT_BASIC } });
    assert.equal(r.status, 404);
    const given = r.headers['x-request-id'] as string;
    assert.match(given, /^[0-9a-f-]{36}$/);
    const line = await eventually(() => Promise.resolve(lines().find((l) => l.requestId === given)), 5000);
    assert.equal((line.res as { statusCode: number }).statusCode, 404);
  });
});
