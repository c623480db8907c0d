#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { request } from 'undici';

interface GlobalOptions {
  server: string;
  user?: string;
  password?: string;
  token?: string;
  output: 'table' | 'json';
}

/** Credentials: a token (ACCEL_TOKEN / --token) or a user and password (ACCEL_USER, ACCEL_PASSWORD). */
function authHeader(o: GlobalOptions): Record<string, string> {
  if (o.token) return { authorization: `Bearer ${o.token}` };
  if (o.user) return { authorization: `Basic ${Buffer.from(`${o.user}:${o.password ?? ''}`).toString('base64')}` };
  return {};
}

async function call<T>(o: GlobalOptions, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let res;
  try {
    res = await request(o.server.replace(/\/$/, '') + path, {
      method,
      headers: { ...authHeader(o), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`cannot reach ${o.server}: ${(e as Error).message}`);
  }
  const text = await res.body.text();
  const parsed = text ? (JSON.parse(text) as T & { message?: string; errors?: string }) : ({} as T & { message?: string; errors?: string });
  if (res.statusCode >= 400) throw new Error(`${res.statusCode}: ${parsed.errors ?? parsed.message ?? text}`);
  return parsed;
}

function print(o: GlobalOptions, rows: Record<string, unknown>[], columns: string[]): void {
  if (o.output === 'json') {
    console.log(JSON.stringify(rows.length === 1 ? rows[0] : rows, null, 2));
    return;
  }
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(columns.map((c) => c.toUpperCase())));
  for (const r of rows) console.log(line(columns.map((c) => String(r[c] ?? ''))));
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const program = new Command('accelctl')
  .description('Command line for the Accel Gateway')
  .option('-s, --server <url>', 'gateway provider/admin API', process.env.ACCEL_SERVER ?? 'http://localhost:8080')
  .option('-u, --user <name>', 'gateway user (or ACCEL_USER)', process.env.ACCEL_USER)
  .option('-p, --password <password>', 'password (or ACCEL_PASSWORD)', process.env.ACCEL_PASSWORD)
  .option('-t, --token <token>', 'personal access token (or ACCEL_TOKEN)', process.env.ACCEL_TOKEN)
  .option('-o, --output <format>', 'table or json', 'table')
  .showHelpAfterError();

const opts = () => program.opts<GlobalOptions>();

const token = program.command('token').description('personal access tokens');
token
  .command('create')
  .description('mint a token; it is printed once and stored only as a hash')
  .requiredOption('--name <name>', 'unique token name')
  .option('--scopes <list>', 'comma-separated: job,cluster,conversion,admin', 'job')
  .option('--expires <rfc3339>', 'expiry time (default one year)')
  .option('--bio <text>', 'description')
  .action(async (a: { name: string; scopes: string; expires?: string; bio?: string }) => {
    const t = await call<Record<string, unknown>>(opts(), 'POST', '/api/v1/personal-access-tokens', {
      name: a.name,
      bio: a.bio,
      scopes: a.scopes.split(',').map((s) => s.trim()).filter(Boolean),
      expired_at: a.expires,
    });
    print(opts(), [t], ['id', 'name', 'scopes', 'expired_at', 'token']);
  });
token
  .command('list')
  .description('list tokens (never their values)')
  .action(async () => print(opts(), await call<Record<string, unknown>[]>(opts(), 'GET', '/api/v1/personal-access-tokens'), ['id', 'name', 'scopes', 'state', 'expired_at']));
token
  .command('revoke <id>')
  .description('delete a token')
  .action(async (id: string) => {
    await call(opts(), 'DELETE', `/api/v1/personal-access-tokens/${positiveInt(id)}`);
    console.log(`token ${id} revoked`);
  });

const cluster = program.command('cluster').description('scheduler clusters');
cluster.command('list').action(async () => print(opts(), await call<Record<string, unknown>[]>(opts(), 'GET', '/api/v1/scheduler-clusters'), ['id', 'name', 'bio']));
cluster
  .command('add <name>')
  .option('--id <id>', 'cluster id', positiveInt)
  .action(async (name: string, a: { id?: number }) => print(opts(), [await call<Record<string, unknown>>(opts(), 'POST', '/api/v1/scheduler-clusters', { name, id: a.id })], ['id', 'name']));

const seedpeer = program.command('seedpeer').description('seed peers (dfdaemon upload gRPC endpoints)');
seedpeer.command('list').action(async () => print(opts(), await call<Record<string, unknown>[]>(opts(), 'GET', '/api/v1/seed-peers'), ['id', 'host_name', 'ip', 'port', 'state', 'scheduler_cluster_id']));
seedpeer
  .command('add <hostname> <ip> <port>')
  .requiredOption('--cluster <id>', 'scheduler cluster id', positiveInt)
  .action(async (hostname: string, ip: string, port: string, a: { cluster: number }) =>
    print(opts(), [await call<Record<string, unknown>>(opts(), 'POST', '/api/v1/seed-peers', { host_name: hostname, ip, port: positiveInt(port), scheduler_cluster_id: a.cluster })], ['id', 'host_name', 'ip', 'port', 'scheduler_cluster_id']),
  );
seedpeer.command('remove <id>').action(async (id: string) => {
  await call(opts(), 'DELETE', `/api/v1/seed-peers/${positiveInt(id)}`);
  console.log(`seed peer ${id} removed`);
});

// acceld-compatible: `accelctl task [--addr host:port] create [--sync] <SOURCE>` and `task list|ls`.
const task = program.command('task').description('conversion tasks (acceld-compatible)').option('--addr <host:port>', 'conversion API address', 'localhost:2077');
const conversionServer = () => ({ ...opts(), server: `http://${task.opts<{ addr: string }>().addr}` });
const cut = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}...` : s);
task
  .command('create <source>')
  .description('convert an image (host/repository:tag)')
  .option('--sync', 'wait until the conversion finishes', false)
  .action(async (source: string, a: { sync: boolean }) => {
    const o = conversionServer();
    if (a.sync) console.error('Waiting task to be completed...');
    await call(o, 'POST', `/api/v1/conversions?sync=${a.sync}`, { type: 'PUSH_ARTIFACT', event_data: { resources: [{ resource_url: source }] } });
    console.error(a.sync ? 'Task has been completed.' : 'Submitted asynchronous task, check status by `task list`.');
  });
task
  .command('list')
  .alias('ls')
  .description('list conversion tasks, newest first')
  .option('--status <status>', 'PROCESSING, COMPLETED or FAILED')
  .action(async (a: { status?: string }) => {
    const o = conversionServer();
    const rows = await call<Record<string, unknown>[]>(o, 'GET', `/api/v1/conversions${a.status ? `?status=${encodeURIComponent(a.status)}` : ''}`);
    if (o.output === 'json') return print(o, rows, []);
    const view = rows.map((r) => ({
      id: r.id,
      created: String(r.created).replace('T', ' ').replace(/\..*$|Z$/, ''),
      status: r.status,
      source: cut(String(r.source)),
      reason: cut(String(r.reason)),
    }));
    print(o, view, ['id', 'created', 'status', 'source', 'reason']);
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`accelctl: ${e.message}`);
  process.exit(1);
});
