#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { hostname } from 'node:os';
import { cacheCommands } from './cache';
import { call, Connection } from './client';
import { OutputFormat, print } from './output';
import { readSettings, settingsPath, writeSettings } from './settings';
import { follow } from './watch';

const stored = readSettings();

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const program = new Command('accelctl')
  .description('Command line for the Accel Gateway: preheats, conversions, tokens and the P2P inventory')
  .option(
    '-s, --server <url>',
    'provider/admin API (env ACCEL_SERVER)',
    process.env.ACCEL_SERVER || stored.server || 'http://localhost:8080',
  )
  .option('-u, --user <name>', 'gateway user (env ACCEL_USER)', process.env.ACCEL_USER || undefined)
  .option('-p, --password <password>', 'password (env ACCEL_PASSWORD)', process.env.ACCEL_PASSWORD || undefined)
  .option(
    '-t, --token <token>',
    `personal access token (default: env ACCEL_TOKEN, else the one login saved in ${settingsPath()})`,
  )
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
  .showHelpAfterError();

interface Globals extends Connection {
  output: OutputFormat;
}
const g = () => {
  const o = program.opts<Globals>();
  // A user and password given on the command line win over a saved token. The token is
  // resolved here, not as an option default, so that --help never prints it.
  if (o.user) return { ...o, token: o.token ?? process.env.ACCEL_TOKEN };
  return { ...o, token: o.token ?? (process.env.ACCEL_TOKEN || stored.token) };
};
type Row = Record<string, unknown>;

program
  .command('login')
  .description('sign in (accelctl -u USER -p PASSWORD login) and save a personal access token for later commands')
  .action(async () => {
    const a = program.opts<Globals>();
    if (!a.user || a.password === undefined)
      throw new InvalidArgumentError('login needs -u/--user and -p/--password (or ACCEL_USER and ACCEL_PASSWORD)');
    const conn = { server: g().server, user: a.user, password: a.password };
    const created = await call<Row>(conn, 'POST', '/api/v1/personal-access-tokens', {
      name: `accelctl-${a.user}-${hostname()}-${Date.now().toString(36)}`,
      bio: 'created by accelctl login',
      scopes: ['job', 'cluster', 'conversion', 'admin'],
    });
    writeSettings({ ...readSettings(), server: conn.server, token: String(created.token) });
    console.log(`logged in to ${conn.server} as ${a.user}; token saved in ${settingsPath()}`);
  });

// ---- preheat jobs ----
const toManifestUrl = (image: string, plainHttp: boolean): string => {
  if (/^https?:\/\//.test(image)) return image;
  const m = /^([^/]+)\/(.+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(image);
  if (!m) throw new InvalidArgumentError('expected a manifest URL or host/repository:tag');
  return `${plainHttp ? 'http' : 'https'}://${m[1]}/v2/${m[2]}/manifests/${m[4] ?? m[3] ?? 'latest'}`;
};

const preheat = program.command('preheat').description('preheat images into the P2P cluster');
preheat
  .command('create <image>')
  .description('preheat an image (manifest URL or host/repository:tag)')
  .addOption(
    new Option('--scope <scope>', 'where to preheat')
      .choices(['single_seed_peer', 'all_seed_peers', 'all_peers'])
      .default('single_seed_peer'),
  )
  .option('--platform <os/arch>', 'platform of a multi-arch image ("all" for every one)')
  .option('--cluster <ids>', 'scheduler cluster ids, comma-separated (default: all)')
  .option('--plain-http', 'the registry speaks plain HTTP', false)
  .option('-w, --watch', 'follow the job to its end with live progress', false)
  .action(
    async (
      image: string,
      a: { scope: string; platform?: string; cluster?: string; plainHttp: boolean; watch: boolean },
    ) => {
      const o = g();
      const job = await call<Row>(o, 'POST', '/oapi/v1/jobs', {
        type: 'preheat',
        args: { type: 'image', url: toManifestUrl(image, a.plainHttp), scope: a.scope, platform: a.platform },
        scheduler_cluster_ids: a.cluster ? a.cluster.split(',').map((c) => positiveInt(c.trim())) : null,
      });
      if (!a.watch) return print(o.output, summary(job), JOB_COLUMNS);
      const final = await watch(o, Number(job.id));
      print(o.output, summary(final), JOB_COLUMNS);
      if (final.state !== 'SUCCESS') process.exitCode = 1;
    },
  );

const JOB_COLUMNS = ['id', 'state', 'scope', 'url', 'done', 'failed', 'created_at'];

function summary(job: Row): Row {
  const args = (job.args ?? {}) as Row;
  const result = (job.result ?? {}) as {
    progress?: Row;
    job_states?: { results?: { success_tasks?: unknown[]; failure_tasks?: unknown[] }[] }[];
  };
  const tasks = (result.job_states ?? []).flatMap((s) => s.results ?? []);
  return {
    ...job,
    scope: args.scope,
    url: args.url,
    done: result.progress?.succeeded ?? tasks.reduce((n, r) => n + (r.success_tasks?.length ?? 0), 0),
    failed: result.progress?.failed ?? tasks.reduce((n, r) => n + (r.failure_tasks?.length ?? 0), 0),
  };
}

interface JobProgress {
  total: number;
  succeeded: number;
  failed: number;
  bytes: number;
}

/** Follows a job to its end, then names every failed download. */
async function watch(o: Globals, id: number): Promise<Row> {
  const job = await follow(
    () => call<Row>(o, 'GET', `/oapi/v1/jobs/${id}`),
    (j) => {
      const p = (j.result as { progress?: JobProgress } | null)?.progress ?? {
        total: 0,
        succeeded: 0,
        failed: 0,
        bytes: 0,
      };
      const mb = (p.bytes / 1e6).toFixed(1);
      return {
        value: p.succeeded + p.failed,
        total: p.total,
        fields: { failed: p.failed, mb },
        line: `job ${id} ${String(j.state)}: ${p.succeeded + p.failed}/${p.total} downloads, ${p.failed} failed, ${mb} MB`,
        finished: j.state !== 'PENDING',
      };
    },
    'preheat {bar} {value}/{total} downloads | {failed} failed | {mb} MB',
  );
  for (const s of (job.result as { job_states?: { error?: string; results?: { failure_tasks?: Row[] }[] }[] } | null)
    ?.job_states ?? []) {
    for (const r of s.results ?? [])
      for (const f of r.failure_tasks ?? [])
        console.error(`failed: ${String(f.hostname)} (${String(f.ip)}) ${String(f.url)}: ${String(f.description)}`);
    if (s.error && !(s.results ?? []).some((r) => r.failure_tasks?.length)) console.error(`failed: ${s.error}`);
  }
  return job;
}

const job = program.command('job').description('preheat jobs');
job
  .command('list')
  .description('jobs, newest first')
  .option('--state <state>', 'PENDING, SUCCESS or FAILURE')
  .option('--image <text>', 'part of the image URL')
  .option('--page <n>', 'page', positiveInt, 1)
  .option('--per-page <n>', 'rows per page', positiveInt, 20)
  .action(async (a: { state?: string; image?: string; page: number; perPage: number }) => {
    const q = new URLSearchParams({
      page: String(a.page),
      per_page: String(a.perPage),
      ...(a.state ? { state: a.state } : {}),
      ...(a.image ? { image: a.image } : {}),
    });
    print(g().output, (await call<Row[]>(g(), 'GET', `/api/v1/jobs?${q}`)).map(summary), JOB_COLUMNS);
  });
job
  .command('get <id>')
  .description('one job with every blob and host')
  .action(async (id: string) => {
    const j = await call<Row>(g(), 'GET', `/api/v1/jobs/${positiveInt(id)}`);
    if (g().output !== 'table') return print(g().output, j, []);
    print('table', summary(j), JOB_COLUMNS);
    const rows: Row[] = [];
    for (const s of (
      j.result as {
        job_states?: { results?: { success_tasks?: Row[]; failure_tasks?: Row[]; scheduler_cluster_id: number }[] }[];
      } | null
    )?.job_states ?? []) {
      for (const r of s.results ?? []) {
        for (const t of r.success_tasks ?? []) rows.push({ ...t, cluster: r.scheduler_cluster_id, state: 'SUCCESS' });
        for (const t of r.failure_tasks ?? [])
          rows.push({ ...t, cluster: r.scheduler_cluster_id, state: 'FAILURE', error: t.description });
      }
    }
    if (rows.length) print('table', rows, ['url', 'hostname', 'ip', 'cluster', 'state', 'error']);
  });
job
  .command('cancel <id>')
  .description('end a pending job as FAILURE')
  .action(async (id: string) =>
    print(g().output, summary(await call<Row>(g(), 'POST', `/api/v1/jobs/${positiveInt(id)}/cancel`)), JOB_COLUMNS),
  );

// ---- tokens ----
const token = program.command('token').description('personal access tokens');
token
  .command('create')
  .description('mint a token; it is printed once and stored only as a hash')
  .requiredOption('--name <name>', 'unique token name')
  .option('--scopes <list>', 'comma-separated: job,cluster,conversion,admin', 'job')
  .option('--expires <rfc3339>', 'expiry time (default one year)')
  .option('--bio <text>', 'description')
  .action(async (a: { name: string; scopes: string; expires?: string; bio?: string }) => {
    const t = await call<Row>(g(), 'POST', '/api/v1/personal-access-tokens', {
      name: a.name,
      bio: a.bio,
      scopes: a.scopes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      expired_at: a.expires,
    });
    print(g().output, t, ['id', 'name', 'scopes', 'expired_at', 'token']);
  });
token
  .command('list')
  .description('list tokens (never their values)')
  .action(async () =>
    print(g().output, await call<Row[]>(g(), 'GET', '/api/v1/personal-access-tokens'), [
      'id',
      'name',
      'scopes',
      'state',
      'expired_at',
    ]),
  );
token
  .command('revoke <id>')
  .description('delete a token')
  .action(async (id: string) => {
    await call(g(), 'DELETE', `/api/v1/personal-access-tokens/${positiveInt(id)}`);
    console.log(`token ${id} revoked`);
  });

// ---- inventory ----
const cluster = program.command('cluster').description('scheduler clusters');
cluster
  .command('list')
  .action(async () =>
    print(g().output, await call<Row[]>(g(), 'GET', '/api/v1/scheduler-clusters'), ['id', 'name', 'bio']),
  );
cluster
  .command('add <name>')
  .option('--id <id>', 'cluster id', positiveInt)
  .action(async (name: string, a: { id?: number }) =>
    print(g().output, await call<Row>(g(), 'POST', '/api/v1/scheduler-clusters', { name, id: a.id }), ['id', 'name']),
  );

cluster.command('remove <id>').action(async (id: string) => {
  await call(g(), 'DELETE', `/api/v1/scheduler-clusters/${positiveInt(id)}`);
  console.log(`cluster ${id} removed`);
});

const seedpeer = program.command('seedpeer').description('seed peers (dfdaemon upload gRPC endpoints)');
seedpeer
  .command('list')
  .action(async () =>
    print(g().output, await call<Row[]>(g(), 'GET', '/api/v1/seed-peers'), [
      'id',
      'host_name',
      'ip',
      'port',
      'state',
      'scheduler_cluster_id',
    ]),
  );
seedpeer
  .command('add <hostname> <ip> <port>')
  .requiredOption('--cluster <id>', 'scheduler cluster id', positiveInt)
  .action(async (host: string, ip: string, port: string, a: { cluster: number }) =>
    print(
      g().output,
      await call<Row>(g(), 'POST', '/api/v1/seed-peers', {
        host_name: host,
        ip,
        port: positiveInt(port),
        scheduler_cluster_id: a.cluster,
      }),
      ['id', 'host_name', 'ip', 'port', 'scheduler_cluster_id'],
    ),
  );
seedpeer.command('remove <id>').action(async (id: string) => {
  await call(g(), 'DELETE', `/api/v1/seed-peers/${positiveInt(id)}`);
  console.log(`seed peer ${id} removed`);
});

// ---- acceld-compatible: `accelctl task [--addr host:port] create [--sync] <SOURCE>` and `task list|ls` ----
const task = program
  .command('task')
  .description('conversion tasks (acceld-compatible)')
  .option('--addr <host:port>', 'conversion API address', stored.addr ?? 'localhost:2077');
const conversionServer = () => ({ ...g(), server: `http://${task.opts<{ addr: string }>().addr}` });
const cut = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}...` : s);
task
  .command('create <source>')
  .description('convert an image (host/repository:tag)')
  .option('--sync', 'wait until the conversion finishes', false)
  .option('-w, --watch', 'follow the conversion to its end with live progress (admin API)', false)
  .action(async (source: string, a: { sync: boolean; watch: boolean }) => {
    if (a.sync) console.error('Waiting task to be completed...');
    await call(conversionServer(), 'POST', `/api/v1/conversions?sync=${a.sync && !a.watch}`, {
      type: 'PUSH_ARTIFACT',
      event_data: { resources: [{ resource_url: source }] },
    });
    if (!a.watch) {
      console.error(a.sync ? 'Task has been completed.' : 'Submitted asynchronous task, check status by `task list`.');
      return;
    }
    // The webhook answers "Ok" only: the newest task of this source is the one it created or joined.
    const o = g();
    const [newest] = await call<Row[]>(
      o,
      'GET',
      `/api/v1/conversion-tasks?source=${encodeURIComponent(source)}&per_page=1`,
    );
    if (!newest) throw new Error(`no conversion task for ${source} was recorded`);
    await watchTask(o, String(newest.id));
  });
task
  .command('watch <id>')
  .description('follow a conversion task to its end with live progress (admin API)')
  .action(async (id: string) => watchTask(g(), id));

const TASK_COLUMNS = ['id', 'status', 'phase', 'layers', 'source', 'target', 'reason'];

interface TaskProgress {
  phase: string;
  layers_total: number;
  layers_done: number;
  bytes_total: number;
  bytes_done: number;
}

async function watchTask(o: Globals, id: string): Promise<void> {
  const final = await follow(
    () => call<Row>(o, 'GET', `/api/v1/conversion-tasks/${encodeURIComponent(id)}`),
    (t) => {
      const p = (t.progress as TaskProgress | null) ?? {
        phase: 'queued',
        layers_total: 0,
        layers_done: 0,
        bytes_total: 0,
        bytes_done: 0,
      };
      const mb = (n: number) => (n / 1e6).toFixed(1);
      return {
        value: p.bytes_done,
        total: p.bytes_total,
        fields: {
          phase: p.phase,
          layers: `${p.layers_done}/${p.layers_total}`,
          done: mb(p.bytes_done),
          all: mb(p.bytes_total),
        },
        line: `task ${id} ${String(t.status)} ${p.phase}: ${p.layers_done}/${p.layers_total} layers, ${mb(p.bytes_done)}/${mb(p.bytes_total)} MB`,
        finished: t.status !== 'PROCESSING',
      };
    },
    'conversion {bar} {phase} | layers {layers} | {done}/{all} MB',
  );
  const p = final.progress as TaskProgress | null;
  const view = { ...final, phase: p?.phase ?? '', layers: p ? `${p.layers_done}/${p.layers_total}` : '' };
  print(o.output, view, TASK_COLUMNS);
  if (final.status !== 'COMPLETED') process.exitCode = 1;
}
task
  .command('list')
  .alias('ls')
  .description('list conversion tasks, newest first')
  .option('--status <status>', 'PROCESSING, COMPLETED or FAILED')
  .action(async (a: { status?: string }) => {
    const o = conversionServer();
    const rows = await call<Row[]>(
      o,
      'GET',
      `/api/v1/conversions${a.status ? `?status=${encodeURIComponent(a.status)}` : ''}`,
    );
    if (o.output !== 'table') return print(o.output, rows, []);
    const view = rows.map((r) => ({
      id: r.id,
      created: String(r.created)
        .replace('T', ' ')
        .replace(/\..*$|Z$/, ''),
      status: r.status,
      source: cut(String(r.source)),
      reason: cut(String(r.reason)),
    }));
    print('table', view, ['id', 'created', 'status', 'source', 'reason']);
  });

cacheCommands(program, g, toManifestUrl);

// ---- shell completion ----
program
  .command('completion')
  .description('print a bash completion script: source <(accelctl completion)')
  .action(() => {
    const words = (c: Command): string[] => c.commands.map((x) => x.name());
    const cases = program.commands
      .filter((c) => c.commands.length)
      .map((c) => `    ${c.name()}) COMPREPLY=( $(compgen -W "${words(c).join(' ')}" -- "$cur") ) ;;`);
    console.log(`_accelctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=( $(compgen -W "${words(program).join(' ')}" -- "$cur") ); return; fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
complete -F _accelctl accelctl`);
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`accelctl: ${e.message}`);
  process.exit(1);
});
