/**
 * Nydus conversion throughput on a realistic layer built from this machine's /usr tree:
 * MB/s of uncompressed input, CPU seconds and peak RSS of the gateway's converter, and the
 * ratio to `gzip -dc` of the same layer in the same run (target ≥ 0.8× with zstd).
 * Then the same converter, to a file, on a layer BENCH_FLAT_MB large (default 4000; 0 skips it):
 * its peak RSS against the 1 GB layer's, both at gzip -1, tells whether memory stays flat with
 * layer size (medians of BENCH_FLAT_RUNS runs each, default 3).
 *   BENCH_LAYER_MB (default 1000: the target is stated for a 1 GB layer)
 */
import { execFileSync } from 'node:child_process';
import { RegistryProcess } from '../test/support/registry';
import { Timed, pickUsrFiles, timed, summary, workerEnv, workerNodeFlags } from './support';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? 1000);
const FLAT_MB = Number(process.env.BENCH_FLAT_MB ?? 4000);
const FLAT_RUNS = Number(process.env.BENCH_FLAT_RUNS ?? 3);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'accel-bench-nydus-'));
  try {
    const list = join(dir, 'files');
    writeFileSync(list, pickUsrFiles(LAYER_MB * 1e6).join('\n'));
    const layer = join(dir, 'layer.tar.gz');
    execFileSync('bash', ['-c', `tar -C / --no-recursion -cf - -T ${list} | gzip -6 > ${layer}`]);
    const uncompressed = Number(
      execFileSync('bash', ['-c', `gzip -dc ${layer} | wc -c`])
        .toString()
        .trim(),
    );
    const diffId = `sha256:${
      execFileSync('bash', ['-c', `gzip -dc ${layer} | sha256sum`])
        .toString()
        .split(' ')[0]
    }`;
    console.log(
      `convert-nydus bench: layer of ${(uncompressed / 1e6).toFixed(0)} MB uncompressed (${(statSync(layer).size / 1e6).toFixed(0)} MB gzip) from /usr, zstd, blake3, 1 MiB chunks, diff_id checked`,
    );
    const gz = await timed('bash', ['-c', `gzip -dc ${layer} > /dev/null`]);
    const ours = await converted(layer, join(dir, 'out.blob'), diffId);
    // The gateway's real path: the blob streamed up to a registry while it is written.
    mkdirSync(join(dir, 'registry'));
    const registry = new RegistryProcess(join(dir, 'registry'), { kind: 'none' });
    await registry.start();
    const uploaded = await converted(layer, registry.host, diffId).finally(() => registry.stop());
    const r = JSON.parse(ours.stdout) as { size: number; chunks: number; bootstrapBytes: number; gunzip: string };
    console.log(`  layers decompress with ${r.gunzip}`);
    console.log(
      `  converter times run from the first byte read; start-up before it (paid once by a running worker, not per layer): ${ours.startupSeconds.toFixed(2)} s to a file, ${uploaded.startupSeconds.toFixed(2)} s with the registry client`,
    );
    const mbps = (s: number) => (uncompressed / 1e6 / s).toFixed(1);
    const row = (name: string, t: { seconds: number; cpuSeconds: number; maxRssMiB: number }) =>
      console.log(
        `  ${name.padEnd(16)} ${t.seconds.toFixed(2).padStart(7)} s  ${mbps(t.seconds).padStart(7)} MB/s  cpu ${t.cpuSeconds.toFixed(2).padStart(7)} s  peak RSS ${t.maxRssMiB.toFixed(0).padStart(5)} MiB`,
      );
    row('gunzip', gz);
    row('accel-gateway', ours);
    row('  → registry', uploaded);
    console.log(
      `  ratio to gunzip: ${(gz.seconds / ours.seconds).toFixed(2)}× (to a file), ${(gz.seconds / uploaded.seconds).toFixed(2)}× (streamed to docker-registry)`,
    );
    summary({
      target: 'Nydus streamed to a registry vs gunzip',
      figure: `${mbps(uploaded.seconds)} MB/s, ${uploaded.maxRssMiB.toFixed(0)} MiB RSS`,
      reference: `${mbps(gz.seconds)} MB/s gunzip`,
      ratio: `${(gz.seconds / uploaded.seconds).toFixed(2)}×`,
      goal: '≥ 0.9×, RSS ≤ 256 MiB',
      meets: gz.seconds / uploaded.seconds >= 0.9 && uploaded.maxRssMiB <= 256,
    });
    console.log(
      `     blob ${(r.size / 1e6).toFixed(0)} MB, ${r.chunks} chunks, bootstrap ${(r.bootstrapBytes / 1e6).toFixed(1)} MB`,
    );
    if (FLAT_MB > 0) await flatness(dir, list);
  } finally {
    execFileSync('rm', ['-rf', dir]);
  }
}

/**
 * The converter to a file on a FLAT_MB layer and on the LAYER_MB one, both at gzip -1 so that
 * only the size differs (and a large layer is made in seconds). A run's peak RSS varies by
 * 10-15 % with when collections fall: each size's figure is the median of FLAT_RUNS runs, the
 * two sizes alternated.
 */
async function flatness(dir: string, smallList: string): Promise<void> {
  const list = join(dir, 'files-large');
  const files = pickUsrFiles(FLAT_MB * 1e6);
  writeFileSync(list, files.join('\n'));
  const gzip1 = (from: string, to: string) =>
    execFileSync('bash', ['-c', `tar -C / --no-recursion -cf - -T ${from} | gzip -1 > ${to}`]);
  const layer = join(dir, 'layer-large.tar.gz');
  const smallLayer = join(dir, 'layer-small.tar.gz');
  gzip1(list, layer);
  gzip1(smallList, smallLayer);
  const smallPeaks: number[] = [];
  const largePeaks: number[] = [];
  let chunks = 0;
  for (let i = 0; i < FLAT_RUNS; i++) {
    smallPeaks.push((await converted(smallLayer, join(dir, 'out.blob'))).maxRssMiB);
    const large = await converted(layer, join(dir, 'out-large.blob'));
    chunks = (JSON.parse(large.stdout) as { chunks: number }).chunks;
    largePeaks.push(large.maxRssMiB);
  }
  const smallPeak = median(smallPeaks);
  const largePeak = median(largePeaks);
  const growth = largePeak / smallPeak;
  const runs = (p: number[]) => p.map((x) => x.toFixed(0)).join(', ');
  console.log(
    `  flatness, to a file: peak RSS ${smallPeak.toFixed(0)} MiB at ${LAYER_MB} MB (runs ${runs(smallPeaks)}), ${largePeak.toFixed(0)} MiB at ${FLAT_MB} MB (runs ${runs(largePeaks)}; ${files.length} files, ${chunks} chunks): ${growth.toFixed(2)}×`,
  );
  summary({
    target: 'Nydus peak RSS flat with layer size (to a file)',
    figure: `${largePeak.toFixed(0)} MiB at ${FLAT_MB} MB`,
    reference: `${smallPeak.toFixed(0)} MiB at ${LAYER_MB} MB`,
    ratio: `${growth.toFixed(2)}×`,
    goal: '≤ 1.1×',
    meets: growth <= 1.1,
  });
}

/**
 * A converter child run as a worker runs, 1 MiB chunks, to a file or a registry host: its own
 * conversion time (start-up excluded), with the CPU and RSS of the whole process.
 */
async function converted(layer: string, target: string, diffId?: string): Promise<Timed & { startupSeconds: number }> {
  const script = join(__dirname, 'convert-nydus-layer.js');
  const args = [...workerNodeFlags(), script, layer, target, String(1 << 20), ...(diffId ? [diffId] : [])];
  const t = await timed(process.execPath, args, workerEnv());
  const own = JSON.parse(t.stdout) as { seconds: number; startupSeconds: number };
  return { ...t, seconds: own.seconds, startupSeconds: own.startupSeconds };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
