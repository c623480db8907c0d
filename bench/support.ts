import { cpus } from 'node:os';
import { buildConfig } from '@accel/config';
import { DEFAULT_FILTERED_QUERY_PARAMS, DragonflyClients } from '@accel/dragonfly';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ReferenceHostsReady } from './reference-hosts';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Regular files and symlinks under /usr (sorted, so runs repeat) until their sizes add up to `limit` bytes. */
export function pickUsrFiles(limit: number): string[] {
  const out: string[] = [];
  let total = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (total >= limit) return;
      const p = join(dir, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() || st.isSymbolicLink()) {
        out.push(p.slice(1));
        total += st.isFile() ? st.size : 0;
      }
    }
  };
  walk('/usr');
  return out;
}

export interface Timed {
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  stdout: string;
}

/**
 * Seed-peer and scheduler health as the gateway ships it. The suite's configuration asks a
 * node's health on every use (healthCacheSeconds 0, so that tests see a node go down at once),
 * which costs a preheat a gRPC health check and two state UPDATEs per job: not what a benchmark
 * of the shipped gateway should count.
 */
export function shippedHealth(): { healthCacheSeconds: number; healthTimeoutMs: number } {
  const { healthCacheSeconds, healthTimeoutMs } = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) } }).preheat;
  return { healthCacheSeconds, healthTimeoutMs };
}

/** Node flags a worker process runs with (scripts/lib/runtime-env.sh, via bench.sh); none when run alone. */
export const workerNodeFlags = (): string[] => (process.env.ACCEL_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** The environment a worker process runs with (ACCEL_WORKER_ENV, `KEY=VALUE …`, via bench.sh); this one's when unset. */
export const workerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  ...Object.fromEntries(
    (process.env.ACCEL_WORKER_ENV ?? '')
      .split(' ')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
});

/** Runs a command under GNU time: wall seconds, CPU seconds and peak RSS of that process. */
export async function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Timed> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...args], {
    maxBuffer: 64 << 20,
    env,
  });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr)!;
  return { seconds: Number(m[1]), cpuSeconds: Number(m[2]) + Number(m[3]), maxRssMiB: Number(m[4]) / 1024, stdout };
}

/** One row of `scripts/bench.sh`'s closing table: what a target measured, against what, and whether it meets it. */
export interface SummaryRow {
  target: string;
  figure: string;
  reference: string;
  ratio: string;
  goal: string;
  meets: boolean;
}

/** Printed as one `SUMMARY {json}` line; bench.sh gathers them into the table. */
export function summary(row: SummaryRow): void {
  console.log(`SUMMARY ${JSON.stringify(row)}`);
}

/** The reference the preheat benchmarks measure against: one DownloadTask call straight to a peer. */
export function downloadDirect(
  clients: DragonflyClients,
  peer: { hostname: string; ip: string; port: number },
  url: string,
  deadlineMs = 600_000,
): Promise<unknown> {
  return clients.downloadTask(
    { hostname: peer.hostname, ip: peer.ip, port: peer.port },
    {
      url,
      type: 'STANDARD',
      priority: 'LEVEL0',
      filtered_query_params: DEFAULT_FILTERED_QUERY_PARAMS,
      request_header: {},
    },
    { deadlineMs, connectMs: 10_000, idleMs: 60_000 },
  );
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The machine's CPU seconds so far, busy and in all (every core), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = ticks.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  const idle = n[3] + (n[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/** CPU seconds each named part (a set of processes) used over a stretch, what the rest of the machine used, and how busy it was. */
export interface CpuSplit {
  parts: Record<string, number>;
  rest: number;
  busyPercent: number;
}

/** Starts measuring; the function returned tells the split since then. */
export function cpuMeter(parts: Record<string, number[]>): () => CpuSplit {
  const sum = (pids: number[]) => pids.reduce((a, p) => a + processCpuSeconds(p), 0);
  const start = Object.fromEntries(Object.entries(parts).map(([k, pids]) => [k, sum(pids)]));
  const machine0 = machineCpuSeconds();
  return () => {
    const machine = machineCpuSeconds();
    const busy = machine.busy - machine0.busy;
    const used = Object.fromEntries(Object.entries(parts).map(([k, pids]) => [k, sum(pids) - start[k]]));
    const own = Object.values(used).reduce((a, b) => a + b, 0);
    return { parts: used, rest: Math.max(0, busy - own), busyPercent: (100 * busy) / (machine.total - machine0.total) };
  };
}

/** "machine busy 90 % of 2 cores; CPU s: a 1.0, b 2.0, rest (MariaDB, Redis, kernel) 0.5". */
export const describeCpu = (c: CpuSplit): string =>
  `machine busy ${c.busyPercent.toFixed(0)} % of ${cpus().length} cores; CPU s: ` +
  Object.entries(c.parts)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ') +
  `, rest (MariaDB, Redis, kernel) ${c.rest.toFixed(1)}`;

/** USER_HZ: Linux reports process and machine times in these ticks. */
const CLOCK_TICKS = 100;

/** The reference hosts' process (reference-hosts.ts), started and listening. */
export interface ReferenceHosts extends ReferenceHostsReady {
  child: ChildProcess;
  /** Origin fetches so far, in all and per host. */
  reads(): Promise<{ reads: number; perPeer: number[] }>;
  stop(): Promise<void>;
}

/**
 * Starts `count` reference hosts (seed peers with `seed`) in a process of their own, so the
 * benchmark's process holds the gateway (or the direct client) alone, as in a real cluster.
 */
export async function startReferenceHosts(count: number, kind: 'peer' | 'seed' = 'peer'): Promise<ReferenceHosts> {
  const child = spawn(process.execPath, [join(__dirname, 'reference-hosts.js'), String(count), kind], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`the reference hosts' process ended (${child.exitCode ?? child.signalCode})`);
    return JSON.parse(r.value as string) as unknown;
  };
  const ready = (await next()) as ReferenceHostsReady;
  return {
    ...ready,
    child,
    reads: async () => {
      child.stdin!.write('reads\n');
      return (await next()) as { reads: number; perPeer: number[] };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const ended = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await ended;
    },
  };
}
