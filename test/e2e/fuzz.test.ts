import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_BASIC, TestGateway } from '../support/gateway';
import { Route, fillPath, routeTable } from '../support/routes';

/** Seeded, so that a failure reproduces: ACCEL_FUZZ_SEED=<seed> runs the same requests again. */
const SEED = Number(process.env.ACCEL_FUZZ_SEED ?? 20261201);
const REQUESTS = Number(process.env.ACCEL_FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 8;

/** mulberry32: a small, well-known PRNG with a 32-bit state. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  'type',
  'url',
  'urls',
  'args',
  'headers',
  'name',
  'password',
  'new_password',
  'old_password',
  'email',
  'role',
  'state',
  'scopes',
  'bio',
  'id',
  'ip',
  'port',
  'host',
  'host_name',
  'scheduler_cluster_id',
  'scheduler_cluster_ids',
  'user_id',
  'timeout',
  'Events',
  'Target',
  'Url',
  'event_data',
  'resources',
  'resource_url',
  'expired_at',
  'token_realm',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
];
const PATH_VALUES = [
  '999999',
  '1',
  '0',
  '-1',
  '1e20',
  'abc',
  '%00',
  '..%2F..%2Fetc',
  '9'.repeat(40),
  '%ED%A0%80',
  'null',
  '%F0%9F%92%A5',
  'x'.repeat(2000),
];
const QUERIES = [
  '',
  '?page=1e20',
  '?per_page=-5',
  '?per_page=99999999999',
  '?page=a&page=b',
  '?access_token=x',
  '?access_token=a&access_token=b',
  '?token=eyJhbGciOi.x.y',
  '?state=PENDING&type=x',
  '?created_after=notadate',
  '?user_id=1e20',
  '?sync=true',
  '?status=%00',
  '?source=' + 'q'.repeat(5000),
];

describe('fuzz: thousands of hostile requests over both ports', () => {
  let g: TestGateway;
  let routes: Route[];
  let rootToken: string;

  before(async () => {
    g = await TestGateway.start({
      server: { bodyLimit: 64 * 1024 },
      auth: { allowAnonymous: true, custom: { header: 'X-Custom', value: 'custom-value' } },
    });
    rootToken = await g.token(['job', 'cluster', 'conversion', 'admin']);
    routes = routeTable(g).filter((r) => !r.path.startsWith('/api/docs'));
  });
  after(async () => g?.stop());

  it(`answers ${REQUESTS} generated bad requests (seed ${SEED}) without a 5xx, and keeps serving`, async () => {
    const rand = prng(SEED);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const int = (n: number) => Math.floor(rand() * n);

    const value = (depth: number): unknown => {
      switch (int(depth > 3 ? 9 : 12)) {
        case 0:
          return pick([0, -1, 1e20, 2 ** 53, 65536, 1.5, -0]);
        case 1:
          return pick([
            '',
            'x',
            '\ud800',
            'a\udc00b',
            '\u0000',
            '\r\nX-Injected: 1',
            'http://169.254.169.254/v2/a/manifests/b',
            'http://127.0.0.1:1/v2/a/manifests/b',
            '127.0.0.1:1/library/app:v1',
            'PUSH_ARTIFACT',
            'preheat',
            'image',
            'admin',
          ]);
        case 2:
          return 's'.repeat(pick([255, 257, 1025, 5000, 40000]));
        case 3:
          return null;
        case 4:
          return pick([true, false]);
        case 5:
          return [];
        case 6:
          return { toString: 1, valueOf: 1 };
        case 7:
          return pick(['job', 'admin', 'root', 'guest', 'disable', 'inactive', 'all_peers']);
        case 8:
          return new Date(int(2) ? 0 : 8.64e15).toISOString();
        case 9:
          return Array.from({ length: int(4) + 1 }, () => value(depth + 1));
        default:
          return object(depth + 1);
      }
    };
    const object = (depth: number): Record<string, unknown> =>
      Object.fromEntries(Array.from({ length: int(5) + 1 }, () => [pick(FIELDS), value(depth)]));
    const nested = (n: number) => (int(2) ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + ']'.repeat(n));

    const body = (): { raw?: string; body?: unknown } => {
      switch (int(10)) {
        case 0:
          return {};
        case 1:
          return {
            raw: pick([
              '{',
              '{"type":',
              'null',
              '"str"',
              '[1,2]',
              'NaN',
              '{"a":1}}',
              '\u0000',
              '{"__proto__":{"admin":true}}',
            ]),
          };
        case 2:
          return { raw: nested(pick([40, 500, 3000])) };
        case 3:
          return { raw: JSON.stringify({ x: 'y'.repeat(70 * 1024) }) };
        case 4:
          return { body: { type: 'preheat', args: object(1), ...object(1) } };
        case 5:
          return { body: { type: 'PUSH_ARTIFACT', event_data: { resources: [object(2)] } } };
        case 6:
          return { body: { Events: [{ Action: 'push', Target: object(2) }] } };
        default:
          return { body: object(0) };
      }
    };
    const auth = (): Record<string, string> => {
      switch (int(12)) {
        case 0:
          return {};
        case 1:
          return { authorization: ROOT_BASIC };
        case 2:
          return { authorization: `Bearer ${rootToken}` };
        case 3:
          return { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' };
        case 4:
          return { authorization: `Basic ${Buffer.from('username:root').toString('base64')}` };
        case 5:
          return {
            authorization: `Basic ${pick(['%%%', '', 'Og==', Buffer.from('\ud800:x').toString('base64'), Buffer.from(`${'u'.repeat(300)}:p`).toString('base64')])}`,
          };
        case 6:
          return { authorization: `Bearer ${'x'.repeat(int(2) ? 8 : 6000)}` };
        case 7:
          return { 'x-custom': pick(['custom-value', 'wrong', '']) };
        case 8:
          return { cookie: pick(['jwt=garbage', 'jwt=eyJ.a.b', 'jwt=']) };
        case 9:
          return { authorization: pick(['Negotiate abc', 'Bearer', 'Basic', 'bearer  ']) };
        default:
          return { authorization: `Bearer ${rootToken}`, 'x-forwarded-proto': 'https' };
      }
    };

    const plan = Array.from({ length: REQUESTS }, (_, i) => {
      const unknown = int(20) === 0;
      const r: Route = unknown
        ? {
            method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
            path: `/${pick(['api/v1', 'oapi/v1', 'preheats', 'x'])}/${pick(PATH_VALUES)}`,
            port: pick(['main', 'conversion'] as const),
          }
        : pick(routes);
      const ctype = pick([
        'application/json',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        '',
      ]);
      return {
        i,
        r,
        path: fillPath(r.path, pick(PATH_VALUES)) + pick(QUERIES),
        headers: { ...auth(), ...(ctype ? { 'content-type': ctype } : {}) },
        payload: r.method === 'GET' || r.method === 'DELETE' ? {} : body(),
      };
    });

    const byClass: Record<string, number> = {};
    const failures: string[] = [];
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < plan.length) {
          const p = plan[next++];
          let status: number;
          try {
            const res = await g.http(p.r.method, p.path, {
              ...p.payload,
              headers: p.headers,
              base: p.r.port === 'conversion' ? g.conversionUrl : g.url,
            });
            status = res.status;
            if (status >= 500)
              failures.push(`#${p.i} ${p.r.method} ${p.path.slice(0, 120)} → ${status} ${res.text.slice(0, 160)}`);
          } catch (e) {
            status = 0;
            failures.push(`#${p.i} ${p.r.method} ${p.path.slice(0, 120)} → no answer: ${(e as Error).message}`);
          }
          const k = status ? `${Math.floor(status / 100)}xx` : 'none';
          byClass[k] = (byClass[k] ?? 0) + 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz seed ${SEED}: ${REQUESTS} requests over ${routes.length} routes in ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)}/s): ${JSON.stringify(byClass)}`,
    );
    assert.deepEqual(failures, [], `seed ${SEED}`);
    assert.equal((await g.http('GET', '/healthy')).status, 200, 'the process still serves');
    assert.equal(
      (await g.http('GET', '/api/v1/health', { base: g.conversionUrl })).status,
      200,
      'the conversion port still serves',
    );
  });
});
