/** Preheat worker processes for the benchmarks, run as compose's preheat worker runs (V8's defaults). */
import { GatewayConfig } from '@accel/config';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `n` workers on the gateway's config (server.workerQueues [preheat]), started and ready; their startup is not timed. */
export async function startPreheatWorkers(
  config: GatewayConfig,
  n: number,
  dir: string,
  overrides: { metricsPort?: number } = {},
): Promise<ChildProcess[]> {
  const file = join(dir, 'worker-config.json');
  writeFileSync(
    file,
    JSON.stringify({
      ...config,
      logLevel: 'log',
      server: { ...config.server, workerQueues: ['preheat'] },
      ...(overrides.metricsPort ? { metrics: { ...config.metrics, port: overrides.metricsPort, token: '' } } : {}),
    }),
  );
  const workers = Array.from({ length: n }, () =>
    spawn(process.execPath, [join(__dirname, '..', 'apps', 'worker', 'src', 'main.js'), '--config', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          let seen = '';
          w.stdout!.on('data', (c: Buffer) => {
            seen += c.toString();
            if (seen.includes('queue processors running')) resolve();
          });
          w.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
        }),
    ),
  );
  for (const w of workers) w.stdout!.resume();
  return workers;
}

export async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) =>
          w.exitCode !== null ? resolve() : (w.once('exit', () => resolve()), w.kill('SIGTERM')),
        ),
    ),
  );
}

/** Peak RSS of a running process (VmHWM), MiB. */
export const peakRssMiB = (pid: number): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/**
 * The worker's longest event-loop stall since the previous read, ms: its own
 * nodejs_eventloop_lag_max_seconds, which each scrape resets (as Prometheus would read it).
 */
export async function workerStallMs(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /^accel_nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(text);
  if (!m) throw new Error('the worker reports no nodejs_eventloop_lag_max_seconds');
  return Number(m[1]) * 1000;
}
