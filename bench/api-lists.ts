/**
 * Job lists with a full table: BENCH_JOBS (default 100,000) finished preheat rows with
 * realistic args and results, then the admin list (`GET /api/v1/jobs`, Basic auth and an
 * admin token) and the provider list (`GET /oapi/v1/jobs`, a job token), first page and a deep
 * page, BENCH_CONCURRENCY (4) clients for BENCH_SECONDS (5) each. The reference, in the same
 * run on the same rows: the one SQL query a page needs at least (its rows by the created_at
 * index) over a mysql2 pool. Prints p50/p99 of each, the reference's, and the ratio of p99s
 * (target: p99 ≤ 50 ms).
 */
import { summary } from './support';
import { createPool } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { ROOT_BASIC, TestGateway } from '../test/support/gateway';
import { services } from '../test/support/env';

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
// A console and a few scripts at once; BENCH_CONCURRENCY=8 shows queueing on 2 cores.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

/** mysql2 names the user `user`. */
const mysqlOf = (g: TestGateway) => ({
  host: services.db.host,
  port: services.db.port,
  user: services.db.username,
  password: services.db.password,
  database: g.config.database.database,
});

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Latencies (ms) of `call` run by CONCURRENCY loops for SECONDS. */
async function load(call: () => Promise<void>): Promise<number[]> {
  const end = Date.now() + SECONDS * 1000;
  const out: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await call();
        out.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  return out;
}

async function seed(g: TestGateway): Promise<void> {
  const db = createPool({ ...mysqlOf(g), connectionLimit: 4 });
  const url = 'https://harbor.example.com/v2/library/nginx/manifests/1.27';
  const args = JSON.stringify({
    type: 'image',
    url,
    urls: [],
    piece_length: null,
    tag: '',
    application: '',
    filtered_query_params: 'X-Amz-Algorithm&X-Amz-Credential&X-Amz-Date&X-Amz-Expires&X-Amz-SignedHeaders',
    headers: { Authorization: '' },
    platform: '',
    scope: 'all_seed_peers',
    ips: [],
    count: null,
    percentage: null,
    concurrent_task_count: 8,
    concurrent_peer_count: 500,
    timeout: 3_600_000_000_000,
  });
  const tasks = Array.from({ length: 6 }, (_, i) => ({
    url: `https://harbor.example.com/v2/library/nginx/blobs/sha256:${String(i).repeat(64)}`,
    hostname: 'seed-peer-1',
    ip: '10.0.0.21',
  }));
  const result = (state: string) =>
    JSON.stringify({
      group_uuid: `group_${randomUUID()}`,
      state,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      job_states: [
        {
          task_uuid: `task_${randomUUID()}`,
          task_name: 'preheat',
          state,
          error: '',
          created_at: new Date().toISOString(),
          ttl: 86400,
          results: [{ success_tasks: tasks, failure_tasks: [], scheduler_cluster_id: 1 }],
        },
      ],
      progress: { total: 6, succeeded: 6, failed: 0, bytes: 123456 },
    });
  const start = Date.now() - JOBS * 1000;
  for (let i = 0; i < JOBS; i += 1000) {
    const rows = [];
    for (let j = i; j < Math.min(JOBS, i + 1000); j++) {
      const state = j % 10 === 0 ? 'FAILURE' : 'SUCCESS';
      const at = new Date(start + j * 1000);
      rows.push([
        `group_${randomUUID()}`,
        'preheat',
        state,
        args,
        result(state),
        1,
        'dragonfly-v2',
        'k'.repeat(64),
        '[]',
        at,
        at,
        at,
      ]);
    }
    await db.query(
      'INSERT INTO job (task_id, type, state, args, task_result, user_id, dialect, image_key, scheduler_cluster_ids, created_at, updated_at, finished_at) VALUES ?',
      [rows],
    );
  }
  await db.end();
}

async function main(): Promise<void> {
  const g = await TestGateway.start({ logLevel: 'error', retention: { intervalMinutes: 0 } });
  const db = createPool({ ...mysqlOf(g), connectionLimit: CONCURRENCY });
  try {
    const seeded = Date.now();
    await seed(g);
    console.log(
      `api-lists bench: ${JOBS} jobs seeded in ${((Date.now() - seeded) / 1000).toFixed(1)} s; ${CONCURRENCY} clients, ${SECONDS} s each`,
    );
    const admin = await g.token(['admin']);
    const job = await g.token(['job']);
    const pool = new Pool(g.url, { connections: CONCURRENCY });
    const get = (path: string, authorization: string) => async () => {
      const r = await pool.request({ method: 'GET', path, headers: { authorization } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`GET ${path}: ${r.statusCode}`);
    };
    const deep = Math.floor(JOBS / 20);
    const cases: [string, () => Promise<void>][] = [
      ['admin list, Basic auth', get('/api/v1/jobs', ROOT_BASIC)],
      ['admin list, admin token', get('/api/v1/jobs', `Bearer ${admin}`)],
      ['admin list, state=FAILURE', get('/api/v1/jobs?state=FAILURE', `Bearer ${admin}`)],
      [`admin list, page ${deep}`, get(`/api/v1/jobs?page=${deep}`, `Bearer ${admin}`)],
      ['provider list, job token', get('/oapi/v1/jobs', `Bearer ${job}`)],
      [`provider list, page ${deep}`, get(`/oapi/v1/jobs?page=${deep}`, `Bearer ${job}`)],
    ];
    for (const [, call] of cases) await call(); // warm-up (connections, caches)
    const reference = await load(async () => {
      await db.query('SELECT * FROM job WHERE is_del = 0 ORDER BY created_at DESC, id DESC LIMIT 10');
    });
    const refP99 = percentile(reference, 99);
    console.log(
      `  ${'reference: one page by SQL'.padEnd(32)} p50 ${percentile(reference, 50).toFixed(1).padStart(6)} ms  p99 ${refP99.toFixed(1).padStart(6)} ms`,
    );
    const worst = { first: 0, deep: 0 };
    for (const [name, call] of cases) {
      const xs = await load(call);
      const p99 = percentile(xs, 99);
      const kind = name.includes('page') ? 'deep' : 'first';
      worst[kind] = Math.max(worst[kind], p99);
      console.log(
        `  ${name.padEnd(32)} p50 ${percentile(xs, 50).toFixed(1).padStart(6)} ms  p99 ${p99.toFixed(1).padStart(6)} ms  ${(p99 / refP99).toFixed(1)}× reference  ${p99 <= 50 ? 'meets target' : 'below target'} (p99 ≤ 50 ms)`,
      );
    }
    await pool.close();
    for (const kind of ['first', 'deep'] as const)
      summary({
        target: `job lists, ${JOBS} jobs, ${kind === 'first' ? 'first pages' : `page ${deep}`}`,
        figure: `worst p99 ${worst[kind].toFixed(1)} ms`,
        reference: `p99 ${refP99.toFixed(1)} ms one SQL page`,
        ratio: `${(worst[kind] / refP99).toFixed(1)}×`,
        goal: 'p99 ≤ 50 ms',
        meets: worst[kind] <= 50,
      });
  } finally {
    await db.end();
    await g.stop();
  }
}

void main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
