/**
 * Job creation on the provider API: Harbor 2.13+'s `POST /oapi/v1/jobs` (a job token, a new
 * image each time, preheat workers running), BENCH_CONCURRENCY (20) clients for BENCH_SECONDS
 * (5): once with the workers in the gateway's own process, once with a worker process of its own
 * as docker-compose runs it (the verdict). The reference, in the same run: a bare Express JSON
 * POST route answering the same body. Prints requests/s and p50/p99 of each, and the ratio
 * (target ≥ 40 %, p99 ≤ 50 ms).
 * A second reference tells what the components themselves allow: an Express route doing only
 * what a durable create cannot do without — the token row read, the manifest's digest asked of
 * the registry (Harbor's URL names a tag), the job row written and queued with BullMQ, a worker
 * in the process reading the row, the manifest and finishing the row — on the same MariaDB,
 * Redis and registry address, with none of the gateway's code.
 * The clients run in a process of their own, so a CPU profile of this one is the server's alone.
 */
import { summary } from './support';
import express from 'express';
import { execFile } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { createHash } from 'node:crypto';
import { createPool } from 'mysql2/promise';
import { Agent, Pool } from 'undici';
import { TestGateway } from '../test/support/gateway';
import { startPreheatWorkers, stopWorkers } from './worker-processes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  return listenAndLoad(app);
}

/** Serves `app` on a free port while the load runs. */
async function listenAndLoad(app: express.Express, authorization?: string): Promise<Figures> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    return await load(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization);
  } finally {
    server.close();
  }
}

/**
 * The floor the required components set: per request the token read, a manifest HEAD, one INSERT
 * and one BullMQ add, and per job a worker's read, manifest GET and UPDATE, over plain mysql2,
 * undici and BullMQ (what Harbor's create needs to be durable, pinned and run), in the gateway's
 * database and Redis while the gateway is idle.
 */
async function componentFloor(g: TestGateway, token: string): Promise<Figures> {
  const { host, port, username: user, password, database } = g.config.database;
  const db = createPool({ host, port, user, password, database, connectionLimit: g.config.database.poolSize });
  const connection = { host: g.config.redis.host, port: g.config.redis.port, maxRetriesPerRequest: null };
  const name = `bench-floor-${process.pid}`;
  const queue = new Queue(name, { connection });
  const registry = new Agent();
  // The address the jobs' URLs name: nothing listens, as for the gateway's jobs.
  const manifest = (method: 'HEAD' | 'GET', url: string) => {
    const { origin, pathname: path } = new URL(url);
    return registry.request({ origin, path, method }).then(
      (r) => r.body.dump(),
      () => undefined,
    );
  };
  await db.query(
    'CREATE TABLE IF NOT EXISTS bench_floor (id BIGINT AUTO_INCREMENT PRIMARY KEY, args JSON NOT NULL,' +
      ' state VARCHAR(16) NOT NULL, created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),' +
      ' updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3))',
  );
  const worker = new Worker<{ id: number }>(
    name,
    async (job) => {
      const [rows] = await db.query('SELECT * FROM bench_floor WHERE id = ?', [job.data.id]);
      // MariaDB's JSON is text on the wire.
      const args = (rows as { args: string }[])[0].args;
      await manifest('GET', (JSON.parse(args) as { url: string }).url);
      await db.query("UPDATE bench_floor SET state = 'FAILURE' WHERE id = ?", [job.data.id]);
    },
    { connection, concurrency: g.config.preheat.jobConcurrency },
  );
  try {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.post('/oapi/v1/jobs', (req, res, next) => {
      const create = async () => {
        const body = req.body as { args: unknown };
        const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const hash = createHash('sha256').update(bearer).digest('hex');
        const [tokens] = await db.query(
          'SELECT user_id, scopes, state FROM personal_access_token WHERE token_hash = ?',
          [hash],
        );
        if ((tokens as unknown[]).length !== 1) throw new Error('the bench token was not found');
        await manifest('HEAD', (body.args as { url: string }).url);
        const [row] = await db.query("INSERT INTO bench_floor (args, state) VALUES (?, 'PENDING')", [
          JSON.stringify(body.args),
        ]);
        const id = (row as { insertId: number }).insertId;
        await queue.add('job', { id }, { jobId: `floor-${id}`, removeOnComplete: { count: 1000 } });
        return { id, state: 'PENDING', args: body.args };
      };
      create().then((r) => res.json(r), next);
    });
    return await listenAndLoad(app, `Bearer ${token}`);
  } finally {
    await worker.close();
    await registry.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await db.query('DROP TABLE bench_floor');
    await db.end();
  }
}

/**
 * The gateway's creates, its preheat workers either in its own process (`server.runWorkers`, a
 * single-process install) or in a process of their own, as docker-compose runs them (the
 * manager with `RUN_WORKERS=false` and a preheat worker).
 */
async function gatewayCreates(inProcess: boolean): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'accel-bench-create-'));
  const g = await TestGateway.start({
    logLevel: 'error',
    registry: { allowed: ['127.0.0.1:*'] },
    server: { runWorkers: inProcess },
    database: { poolSize: Number(process.env.BENCH_DB_POOL ?? 10) },
  });
  const workers = inProcess ? [] : await startPreheatWorkers(g.config, 1, dir);
  try {
    return await load(g.url, `Bearer ${await g.token(['job'])}`);
  } finally {
    await stopWorkers(workers);
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const reference = await bareExpress();
  let floor: Figures;
  const g = await TestGateway.start({ logLevel: 'error', server: { runWorkers: false } });
  try {
    floor = await componentFloor(g, await g.token(['job']));
  } finally {
    await g.stop();
  }
  const inProcess = await gatewayCreates(true);
  const gateway = await gatewayCreates(false);
  const line = (name: string, f: Figures) =>
    `  ${name.padEnd(36)} ${f.rate.toFixed(0).padStart(6)} req/s  p50 ${f.p50.toFixed(1).padStart(6)} ms  p99 ${f.p99.toFixed(1).padStart(6)} ms`;
  console.log(`api-create bench: POST /oapi/v1/jobs, ${CONCURRENCY} clients, ${SECONDS} s, workers running`);
  console.log(line('bare Express JSON POST', reference));
  console.log(line('components alone', floor));
  console.log(line('gateway, workers in its process', inProcess));
  console.log(line('gateway, a worker process (compose)', gateway));
  const ratio = gateway.rate / reference.rate;
  console.log(
    `  the components alone reach ${((100 * floor.rate) / reference.rate).toFixed(1)} % of bare Express; the gateway ${((100 * gateway.rate) / floor.rate).toFixed(0)} % of them (${((100 * inProcess.rate) / floor.rate).toFixed(0)} % with its workers in process)`,
  );
  const meets = ratio >= 0.4 && gateway.p99 <= 50;
  summary({
    target: 'job create, 20 clients, workers running',
    figure: `${gateway.rate.toFixed(0)} req/s, p99 ${gateway.p99.toFixed(0)} ms (worker process)`,
    reference: `${reference.rate.toFixed(0)} req/s bare Express`,
    ratio: `${(100 * ratio).toFixed(1)} %`,
    goal: '≥ 40 %, p99 ≤ 50 ms',
    meets,
  });
  console.log(
    `  ratio ${(100 * ratio).toFixed(1)} % of bare Express (${((100 * inProcess.rate) / reference.rate).toFixed(1)} % with workers in process); ${meets ? 'meets target' : 'below target'} (≥ 40 %, p99 ≤ 50 ms)`,
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
