import { DEFAULT_FILTERED_QUERY_PARAMS, DragonflyClients } from '@accel/dragonfly';
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
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

/** Node flags a worker process runs with (scripts/lib/runtime-env.sh, via bench.sh); none when run alone. */
export const workerNodeFlags = (): string[] => (process.env.ACCEL_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** Runs a command under GNU time: wall seconds, CPU seconds and peak RSS of that process. */
export async function timed(cmd: string, args: string[]): Promise<Timed> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...args], {
    maxBuffer: 64 << 20,
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
