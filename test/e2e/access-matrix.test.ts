import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { services } from '../support/env';
import { ROOT_BASIC, TestGateway } from '../support/gateway';
import { Route, fillPath, routeTable } from '../support/routes';

/**
 * Who may call what, for every route the gateway serves: the route table comes from Express
 * itself, so a route added without a policy here fails this test instead of escaping it.
 */
type Policy =
  | 'public' // health, docs, sign-in/out
  | 'legacy' // what Harbor 2.1–2.11 calls: anonymous with auth.allowAnonymous
  | 'job-api' // Harbor 2.12+ create and poll: anonymous with auth.allowAnonymousJobApi
  | 'jobs' // the rest of the job API: a `job` credential, always
  | 'signed-in' // any valid identity
  | 'password' // another user's password: administrators only
  | 'admin-read' // root and guests
  | 'admin-sensitive' // root only, even to read
  | 'admin-write' // root only
  | 'conversion'; // :2077, a `conversion` credential (guests read only)

function policyOf(r: Route): Policy | undefined {
  const key = `${r.method} ${r.path}`;
  if (
    r.path.startsWith('/api/docs') ||
    [
      'GET /healthy',
      'GET /_ping',
      'GET /health',
      'GET /livez',
      'GET /readyz',
      'GET /api/v1/health',
      'POST /api/v1/users/signin',
      'POST /api/v1/users/signout',
    ].includes(key)
  )
    return 'public';
  if (['POST /preheats', 'GET /preheats/:id', 'POST /registry/notifications'].includes(key)) return 'legacy';
  if (['POST /oapi/v1/jobs', 'GET /oapi/v1/jobs/:id'].includes(key)) return 'job-api';
  if (['GET /oapi/v1/jobs', 'DELETE /oapi/v1/jobs/:id'].includes(key)) return 'jobs';
  // Also `Bearer <metrics.token>`, tested with the metrics themselves.
  if (key === 'GET /metrics') return 'admin-read';
  if (key === 'GET /api/v1/users/me') return 'signed-in';
  if (key === 'POST /api/v1/users/:id/reset_password') return 'password';
  if (r.path.startsWith('/api/v1/conversions')) return 'conversion';
  if (
    [
      'GET /api/v1/users',
      'GET /api/v1/personal-access-tokens',
      'GET /api/v1/personal-access-tokens/:id',
      'GET /api/v1/audits',
    ].includes(key)
  )
    return 'admin-sensitive';
  if (r.path.startsWith('/api/v1/')) return r.method === 'GET' ? 'admin-read' : 'admin-write';
  return undefined;
}

interface Identity {
  name: string;
  headers: Record<string, string>;
  kind: 'anonymous' | 'session' | 'basic' | 'token' | 'custom' | 'unknown' | 'refused';
  role?: 'root' | 'guest';
  scopes?: string[];
}

type Outcome = 'allowed' | 401 | 403;

function expected(r: Route, policy: Policy, who: Identity, anonymous: { legacy: boolean; jobApi: boolean }): Outcome {
  if (policy === 'public') return 'allowed';
  if (who.kind === 'unknown') return 401;
  if (who.kind === 'anonymous')
    return (policy === 'legacy' && anonymous.legacy) || (policy === 'job-api' && anonymous.jobApi) ? 'allowed' : 401;
  if (who.kind === 'refused') return 403;
  const writing = r.method !== 'GET' && r.method !== 'HEAD';
  const scoped = (scope: string) => who.scopes === undefined || who.scopes.includes(scope);
  if (policy === 'conversion') {
    // :2077 takes gateway tokens and users' Basic credentials (and webhook headers), not console sessions.
    if (who.kind === 'session' || who.kind === 'custom') return 401;
    if (!scoped('conversion')) return 403;
    return writing && who.role === 'guest' ? 403 : 'allowed';
  }
  if (policy === 'signed-in') return 'allowed';
  if (policy === 'password') return who.role === 'root' && scoped('admin') && who.kind !== 'custom' ? 'allowed' : 403;
  if (policy === 'legacy' || policy === 'job-api' || policy === 'jobs') {
    if (!scoped('job')) return 403;
    return writing && who.role === 'guest' ? 403 : 'allowed';
  }
  if (!scoped('admin')) return 403;
  if (who.role === 'root') return 'allowed';
  return policy === 'admin-read' && who.role === 'guest' ? 'allowed' : 403;
}

/** A body that passes auth-independent parsing, so that only auth decides between refused and not. */
function bodyFor(r: Route): unknown {
  if (r.path === '/api/v1/users/:id/reset_password') return { new_password: 'a-long-enough-password' };
  if (r.path === '/api/v1/conversions') return { type: 'DELETE_ARTIFACT', event_data: { resources: [] } };
  return {};
}

const outcomeOf = (status: number): Outcome | number =>
  status === 401 || status === 403 ? status : status < 500 && status !== 429 ? 'allowed' : status;

async function check(
  g: TestGateway,
  identities: Identity[],
  anonymous: { legacy: boolean; jobApi: boolean },
): Promise<{ failures: string[]; calls: number }> {
  const failures: string[] = [];
  let calls = 0;
  const routes = routeTable(g);
  for (const r of routes) {
    const policy = policyOf(r);
    if (!policy) {
      failures.push(`${r.method} ${r.path} has no access policy in this test`);
      continue;
    }
    // Public routes are checked once, anonymously (sign-in is rate-limited per client).
    for (const who of policy === 'public' ? identities.filter((i) => i.kind === 'anonymous') : identities) {
      const res = await g.http(r.method, fillPath(r.path), {
        body: bodyFor(r),
        headers: who.headers,
        base: r.port === 'conversion' ? g.conversionUrl : g.url,
      });
      calls++;
      const want = expected(r, policy, who, anonymous);
      const got = outcomeOf(res.status);
      if (got !== want)
        failures.push(
          `${r.method} ${r.path} as ${who.name}: ${res.status} (${res.text.slice(0, 100)}), expected ${want}`,
        );
    }
  }
  assert.ok(routes.length > 50, `route table read (${routes.length} routes)`);
  return { failures, calls };
}

describe('access matrix: every route × every identity', () => {
  let g: TestGateway;
  const identities: Identity[] = [];

  before(async () => {
    // The wrong-password identity fails on every route: the failed-login limit has its own test.
    g = await TestGateway.start({
      auth: {
        allowAnonymous: true,
        signinPerMinute: 1000,
        failedLogins: { perUser: 100_000, perSource: 100_000 },
        custom: { header: 'X-Harbor-Custom', value: 'custom-secret-value' },
      },
    });
    const root = { authorization: ROOT_BASIC };
    const guestBasic = `Basic ${Buffer.from('viewer:viewer-password').toString('base64')}`;
    const created = await g.http<{ id: number }>('POST', '/api/v1/users', {
      body: { name: 'viewer', password: 'viewer-password', role: 'guest' },
      headers: root,
    });
    assert.equal(created.status, 200, created.text);
    const session = async (name: string, password: string) =>
      `Bearer ${(await g.http<{ token: string }>('POST', '/api/v1/users/signin', { body: { name, password } })).json.token}`;
    const token = async (scopes?: string[], extra: Record<string, unknown> = {}) =>
      `Bearer ${await g.token(scopes, extra)}`;
    const ALL = ['job', 'cluster', 'conversion', 'admin'];
    const tokenId = async (t: string) =>
      (
        await g.http<{ id: number; name: string }[]>('GET', '/api/v1/personal-access-tokens', { headers: root })
      ).json.find((x) => x.name === t)!.id;

    const guestOwned = await token(ALL, { name: 'guest-owned' });
    const db = new DataSource({ type: 'mysql', ...services.db, database: g.config.database.database });
    await db.initialize();
    await db.query("UPDATE personal_access_token SET user_id = ? WHERE name = 'guest-owned'", [created.json.id]);
    await db.destroy();
    const inactive = await token(ALL, { name: 'inactive' });
    assert.equal(
      (
        await g.http('PATCH', `/api/v1/personal-access-tokens/${await tokenId('inactive')}`, {
          body: { state: 'inactive' },
          headers: root,
        })
      ).status,
      200,
    );
    const revoked = await token(ALL, { name: 'revoked' });
    assert.equal(
      (await g.http('DELETE', `/api/v1/personal-access-tokens/${await tokenId('revoked')}`, { headers: root })).status,
      200,
    );

    identities.push(
      { name: 'anonymous', headers: {}, kind: 'anonymous' },
      {
        name: 'root session',
        headers: { authorization: await session('root', 'root-password-for-tests') },
        kind: 'session',
        role: 'root',
      },
      { name: 'root basic', headers: root, kind: 'basic', role: 'root' },
      {
        name: 'guest session',
        headers: { authorization: await session('viewer', 'viewer-password') },
        kind: 'session',
        role: 'guest',
      },
      { name: 'guest basic', headers: { authorization: guestBasic }, kind: 'basic', role: 'guest' },
      ...(['job', 'cluster', 'conversion', 'admin'] as const).map((s) => ({
        name: `${s} token`,
        kind: 'token' as const,
        role: 'root' as const,
        scopes: [s],
        headers: {} as Record<string, string>,
      })),
      {
        name: 'default-scope token',
        headers: { authorization: await token(undefined) },
        kind: 'token',
        role: 'root',
        scopes: ['job', 'cluster', 'conversion'],
      },
      {
        name: 'empty-scope token',
        headers: { authorization: await token([]) },
        kind: 'token',
        role: 'root',
        scopes: [],
      },
      {
        name: 'all-scope token',
        headers: { authorization: await token(ALL) },
        kind: 'token',
        role: 'root',
        scopes: ALL,
      },
      { name: 'guest-owned token', headers: { authorization: guestOwned }, kind: 'token', role: 'guest', scopes: ALL },
      {
        name: 'expired token',
        headers: { authorization: await token(ALL, { expired_at: new Date(Date.now() - 60_000).toISOString() }) },
        kind: 'refused',
      },
      { name: 'inactive token', headers: { authorization: inactive }, kind: 'refused' },
      { name: 'revoked token', headers: { authorization: revoked }, kind: 'unknown' },
      { name: 'unknown token', headers: { authorization: 'Bearer acc_not-a-real-token' }, kind: 'unknown' },
      {
        name: 'wrong basic',
        headers: { authorization: `Basic ${Buffer.from('root:wrong').toString('base64')}` },
        kind: 'unknown',
      },
      { name: 'custom header', headers: { 'x-harbor-custom': 'custom-secret-value' }, kind: 'custom', scopes: ['job'] },
    );
    for (const i of identities)
      if (i.kind === 'token' && !i.headers.authorization) i.headers.authorization = await token(i.scopes);
  });
  after(async () => g?.stop());

  it('grants exactly what each identity may do, on both ports (anonymous mode on for Harbor 2.1–2.11)', async () => {
    const { failures, calls } = await check(g, identities, { legacy: true, jobApi: false });
    assert.deepEqual(failures, []);
    assert.ok(calls > 800, `${calls} calls`);
  });
});

describe('access matrix: anonymous callers in each auth-mode NONE setting', () => {
  for (const [legacy, jobApi] of [
    [false, false],
    [true, true],
  ]) {
    it(`allowAnonymous: ${legacy}, allowAnonymousJobApi: ${jobApi}`, async () => {
      const g = await TestGateway.start({ auth: { allowAnonymous: legacy, allowAnonymousJobApi: jobApi } });
      try {
        const { failures } = await check(g, [{ name: 'anonymous', headers: {}, kind: 'anonymous' }], {
          legacy,
          jobApi,
        });
        assert.deepEqual(failures, []);
      } finally {
        await g.stop();
      }
    });
  }
});
