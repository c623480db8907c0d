import { Command, InvalidArgumentError } from 'commander';
import { call, Connection } from './client';
import { OutputFormat, print } from './output';

type Globals = Connection & { output: OutputFormat };
type Row = Record<string, unknown>;

interface Job {
  id: number;
  state: string;
  result: { job_states?: { error?: string; results?: Row[] }[] } | null;
}

interface Distribution {
  image: { layers: { url: string }[] };
  peers: { ip: string; hostname: string; cached_layers: { url: string }[]; scheduler_cluster_id: number }[];
}

/** Task-cache commands over Dragonfly's job API: get_task, delete_task, get_image_distribution, and the peers table. */
export function cacheCommands(
  program: Command,
  g: () => Globals,
  toManifestUrl: (s: string, plain: boolean) => string,
) {
  /** A blob or file URL names one task; anything else is an image (manifest URL or host/repository:tag). */
  const isTaskUrl = (s: string) => /^https?:\/\//.test(s) && !/\/v2\/.+\/manifests\/[^/]+$/.test(s);
  const clusters = (v?: string) =>
    v
      ? v.split(',').map((c) => {
          const n = Number(c.trim());
          if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('cluster ids must be positive integers');
          return n;
        })
      : null;

  async function runJob(o: Globals, body: Row): Promise<Job> {
    const created = await call<Job>(o, 'POST', '/oapi/v1/jobs', body);
    for (let job = created; ; job = await call<Job>(o, 'GET', `/oapi/v1/jobs/${created.id}`)) {
      if (job.state !== 'PENDING') return job;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  const entries = (job: Job) => (job.result?.job_states ?? []).flatMap((s) => s.results ?? []);
  const errors = (job: Job) => (job.result?.job_states ?? []).map((s) => s.error).filter(Boolean) as string[];

  function distribution(o: Globals, image: string, a: { plainHttp: boolean; platform?: string; cluster?: string }) {
    return call<Distribution>(o, 'POST', '/oapi/v1/jobs', {
      type: 'get_image_distribution',
      args: { url: toManifestUrl(image, a.plainHttp), platform: a.platform },
      scheduler_cluster_ids: clusters(a.cluster),
    });
  }

  const cache = program.command('cache').description('what the P2P cluster holds: find and evict tasks');
  cache
    .command('get <image|url>')
    .description('hosts holding a blob/file URL (get_task), or the peers holding an image’s layers')
    .option('--plain-http', 'the registry speaks plain HTTP', false)
    .option('--platform <os/arch>', 'platform of a multi-arch image')
    .option('--cluster <ids>', 'scheduler cluster ids, comma-separated (default: all)')
    .action(async (target: string, a: { plainHttp: boolean; platform?: string; cluster?: string }) => {
      const o = g();
      if (!isTaskUrl(target)) return printDistribution(o, await distribution(o, target, a));
      const job = await runJob(o, {
        type: 'get_task',
        args: { url: target },
        scheduler_cluster_ids: clusters(a.cluster),
      });
      if (o.output !== 'table') print(o.output, job as unknown as Row, []);
      else {
        const rows = entries(job).flatMap((r) =>
          ((r.peers as Row[]) ?? []).map((p) => ({ ...p, finished: p.IsFinished, cluster: r.scheduler_cluster_id })),
        );
        print('table', rows, ['hostname', 'ip', 'host_type', 'finished', 'cluster', 'updated_at']);
        for (const r of entries(job))
          for (const f of (r.failed_hosts as Row[]) ?? [])
            console.error(`not asked: ${String(f.hostname)} (${String(f.ip)}): ${String(f.description)}`);
      }
      for (const e of errors(job)) console.error(`failed: ${e}`);
      if (job.state !== 'SUCCESS') process.exitCode = 1;
    });
  cache
    .command('delete <image|url>')
    .description('evict a blob/file URL, or every layer of an image, from every host holding it (delete_task)')
    .option('--plain-http', 'the registry speaks plain HTTP', false)
    .option('--platform <os/arch>', 'platform of a multi-arch image')
    .option('--cluster <ids>', 'scheduler cluster ids, comma-separated (default: all)')
    .action(async (target: string, a: { plainHttp: boolean; platform?: string; cluster?: string }) => {
      const o = g();
      const urls = isTaskUrl(target) ? [target] : (await distribution(o, target, a)).image.layers.map((l) => l.url);
      const jobs = await Promise.all(
        urls.map((url) =>
          runJob(o, { type: 'delete_task', args: { url }, scheduler_cluster_ids: clusters(a.cluster) }),
        ),
      );
      const rows = jobs.flatMap((job, i) =>
        entries(job).flatMap((r) => [
          ...((r.success_tasks as Row[]) ?? []).map((t) => ({
            ...t,
            url: urls[i],
            result: 'deleted',
            description: '',
          })),
          ...((r.failure_tasks as Row[]) ?? []).map((t) => ({ ...t, url: urls[i], result: 'failed' })),
        ]),
      );
      if (o.output !== 'table') print(o.output, rows, []);
      else print('table', rows, ['hostname', 'ip', 'host_type', 'result', 'url', 'description']);
      for (const e of jobs.flatMap(errors)) console.error(`failed: ${e}`);
      if (jobs.some((j) => j.state !== 'SUCCESS') || rows.some((r) => r.result === 'failed')) process.exitCode = 1;
    });

  function printDistribution(o: Globals, d: Distribution) {
    if (o.output !== 'table') return print(o.output, d as unknown as Row, []);
    const total = d.image.layers.length;
    print(
      'table',
      d.peers.map((p) => ({ ...p, cached: `${p.cached_layers.length}/${total}`, cluster: p.scheduler_cluster_id })),
      ['hostname', 'ip', 'cluster', 'cached'],
    );
  }

  program
    .command('image')
    .description('images in the P2P cluster')
    .command('distribution <image>')
    .description('which layers of an image each peer holds (get_image_distribution)')
    .option('--plain-http', 'the registry speaks plain HTTP', false)
    .option('--platform <os/arch>', 'platform of a multi-arch image')
    .option('--cluster <ids>', 'scheduler cluster ids, comma-separated (default: all)')
    .action(async (image: string, a: { plainHttp: boolean; platform?: string; cluster?: string }) => {
      const o = g();
      printDistribution(o, await distribution(o, image, a));
    });

  const peers = program.command('peers').description('the peers each cluster’s scheduler lists (sync_peers)');
  peers
    .command('list')
    .option('--cluster <id>', 'one scheduler cluster')
    .option('--type <type>', 'normal or super (seed peers)')
    .action(async (a: { cluster?: string; type?: string }) => {
      const o = g();
      const q = new URLSearchParams({ per_page: '1000' });
      if (a.cluster) q.set('scheduler_cluster_id', a.cluster);
      if (a.type) q.set('type', a.type);
      const rows = await call<Row[]>(o, 'GET', `/api/v1/peers?${q.toString()}`);
      print(o.output, rows, ['id', 'host_name', 'ip', 'port', 'type', 'state', 'scheduler_cluster_id', 'updated_at']);
    });
  peers
    .command('sync')
    .description('refresh the peers table from every scheduler now')
    .action(async () => {
      const o = g();
      const r = await call<Row>(o, 'POST', '/api/v1/peers/sync');
      print(o.output, r, ['clusters', 'peers']);
    });
}
