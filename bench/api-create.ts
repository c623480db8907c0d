/**
 * Job creation on the provider API: Harbor 2.13+'s `POST /oapi/v1/jobs` (a job token, a new
 * image each time, workers running in the same process), BENCH_CONCURRENCY (20) clients for
 * BENCH_SECONDS (5). The reference, in the same run: a bare Express JSON POST route answering
 * the same body. Prints requests/s and p50/p99 of both, and the ratio (target ≥ 40 %, p99 ≤ 50 ms).
 * The clients run in a process of their own, so a CPU profile of this one is the server's alone.
 */
import { summary } from './support';
import express from 'express';
import { execFile } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { TestGateway } from '../test/support/gateway';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((p / 100) * (xs.length - 1))];

interface Figures {
  rate: number;
  p50: number;
  p99: number;
}

async function drive(base: string, headers: Record<string, string>): Promise<Figures> {
  const pool = new Pool(base, { connections: CONCURRENCY });
  let n = 0;
  const body = () =>
    JSON.stringify({
      type: 'preheat',
      args: {
        type: 'image',
        // Nothing listens there: each job fails fast in the worker, as the create is what is measured.
        url: `http://127.0.0.1:9/v2/bench/app/manifests/t${n++}-${process.hrtime.bigint()}`,
        scope: 'single_seed_peer',
      },
    });
  const once = async () => {
    const r = await pool.request({
      method: 'POST',
      path: '/oapi/v1/jobs',
      headers: { 'content-type': 'application/json', ...headers },
      body: body(),
    });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(`POST /oapi/v1/jobs: ${r.statusCode}`);
  };
  for (let i = 0; i < CONCURRENCY; i++) await once(); // warm-up
  const times: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await once();
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  await pool.close();
  return { rate: times.length / SECONDS, p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** The load, from a child process (this script with `--client URL [AUTHORIZATION]`). */
async function load(base: string, authorization?: string): Promise<Figures> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [__filename, '--client', base, ...(authorization ? [authorization] : [])],
    { env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return JSON.parse(stdout) as Figures;
}

async function bareExpress(): Promise<Figures> {
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.post('/oapi/v1/jobs', (req, res) =>
    res.json({ id: 1, state: 'PENDING', args: (req.body as { args: unknown }).args }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    return await load(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

async function main(): Promise<void> {
  const reference = await bareExpress();
  const g = await TestGateway.start({
    logLevel: 'error',
    registry: { allowed: ['127.0.0.1:*'] },
    server: { runWorkers: process.env.BENCH_WORKERS !== '0' },
    database: { poolSize: Number(process.env.BENCH_DB_POOL ?? 10) },
  });
  let gateway: Figures;
  try {
    const token = await g.token(['job']);
    gateway = await load(g.url, `Bearer ${token}`);
  } finally {
    await g.stop();
  }
  const line = (name: string, f: Figures) =>
    `  ${name.padEnd(26)} ${f.rate.toFixed(0).padStart(6)} req/s  p50 ${f.p50.toFixed(1).padStart(6)} ms  p99 ${f.p99.toFixed(1).padStart(6)} ms`;
  console.log(`api-create bench: POST /oapi/v1/jobs, ${CONCURRENCY} clients, ${SECONDS} s, workers running`);
  console.log(line('bare Express JSON POST', reference));
  console.log(line('gateway job create', gateway));
  const ratio = gateway.rate / reference.rate;
  summary({
    target: 'job create, 20 clients, workers running',
    figure: `${gateway.rate.toFixed(0)} req/s, p99 ${gateway.p99.toFixed(0)} ms`,
    reference: `${reference.rate.toFixed(0)} req/s bare Express`,
    ratio: `${(100 * ratio).toFixed(1)} %`,
    goal: '≥ 40 %, p99 ≤ 50 ms',
    meets: ratio >= 0.4 && gateway.p99 <= 50,
  });
  console.log(
    `  ratio ${(100 * ratio).toFixed(1)} % of bare Express; ${ratio >= 0.4 && gateway.p99 <= 50 ? 'meets target' : 'below target'} (≥ 40 %, p99 ≤ 50 ms)`,
  );
}

const client = process.argv.indexOf('--client');
const run =
  client > 0
    ? () =>
        drive(
          process.argv[client + 1],
          process.argv[client + 2] ? { authorization: process.argv[client + 2] } : {},
        ).then((f) => void process.stdout.write(JSON.stringify(f)))
    : main;

void run().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
