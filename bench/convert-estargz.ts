/**
 * eStargz conversion throughput: a realistic layer built from this machine's /usr tree,
 * converted by the gateway's converter and by stargz-snapshotter's `ctr-remote image convert
 * --estargz --oci` at the same gzip level and chunk size, in the same run.
 * Ours runs twice: with the engine `auto` picks (libdeflate when its addon is built) and with
 * zlib, the fallback. Prints MB/s of uncompressed input, CPU seconds, peak RSS and the ratio
 * ours/ctr-remote.
 *   BENCH_LAYER_MB (default 1000), BENCH_LEVEL (default 9)
 */
import { execFileSync } from 'node:child_process';
import { pickUsrFiles, timed, summary, workerEnv, workerNodeFlags } from './support';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateContainerd } from '../test/support/containerd';
import { MT, push } from '../test/support/images';
import { RegistryProcess } from '../test/support/registry';

const LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? 1000);
const LEVEL = Number(process.env.BENCH_LEVEL ?? 9);
const CHUNK = 4 << 20;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'accel-bench-'));
  const list = join(dir, 'files');
  writeFileSync(list, pickUsrFiles(LAYER_MB * 1e6).join('\n'));
  const layer = join(dir, 'layer.tar.gz');
  execFileSync('bash', ['-c', `tar -C / --no-recursion -cf - -T ${list} | gzip -6 > ${layer}`]);
  const layerDigest = await sha256File(layer);
  const uncompressed = Number(
    execFileSync('bash', ['-c', `gzip -dc ${layer} | wc -c`])
      .toString()
      .trim(),
  );
  console.log(
    `convert-estargz bench: layer of ${(uncompressed / 1e6).toFixed(0)} MB uncompressed (${(statSync(layer).size / 1e6).toFixed(0)} MB gzip) from /usr, level ${LEVEL}, chunk 4 MiB`,
  );

  // gunzip alone, the floor every converter stands on.
  const gz = await timed('bash', ['-c', `gzip -dc ${layer} > /dev/null`]);

  const convert = (deflate: string) =>
    timed(
      process.execPath,
      [
        ...workerNodeFlags(),
        join(__dirname, 'convert-layer.js'),
        layer,
        join(dir, 'ours.esgz'),
        String(LEVEL),
        String(CHUNK),
        deflate,
      ],
      workerEnv(),
    );
  const ours = await convert('auto');
  const oursResult = JSON.parse(ours.stdout) as { uncompressedBytes: number; size: number; deflate: string };
  const oursZlib = await convert('zlib');
  const zlibResult = JSON.parse(oursZlib.stdout) as { size: number; deflate: string };

  const registry = new RegistryProcess(mkdtempSync(join(tmpdir(), 'accel-bench-reg-')), { kind: 'none' });
  const ctd = new PrivateContainerd();
  await registry.start();
  await ctd.start();
  let theirs;
  try {
    const realDiffId = execFileSync('bash', ['-c', `gzip -dc ${layer} | sha256sum`])
      .toString()
      .split(' ')[0];
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [`sha256:${realDiffId}`] },
        config: {},
      }),
    );
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const size = statSync(layer).size;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: configDigest, size: config.length },
        layers: [{ mediaType: MT.ociLayer, digest: layerDigest, size }],
      }),
    );
    await push(registry.host, 'bench/usr', 'v1', {
      manifest,
      mediaType: MT.ociManifest,
      digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
      blobs: [
        { digest: configDigest, size: config.length, mediaType: MT.ociConfig, data: config },
        { digest: layerDigest, size, mediaType: MT.ociLayer, data: readFileSync(layer) },
      ],
      pulled: [],
      platform: { os: 'linux', architecture: 'amd64' },
    });
    const ref = `${registry.host}/bench/usr:v1`;
    // Pulled (and unpacked) before timing: ctr-remote converts from the local content store.
    await ctd.ctr('image', 'pull', '--plain-http', '--snapshotter', 'native', ref);
    theirs = await timed('ctr-remote', [
      '--address',
      ctd.socket,
      'image',
      'convert',
      '--estargz',
      '--oci',
      '--estargz-compression-level',
      String(LEVEL),
      '--estargz-chunk-size',
      String(CHUNK),
      ref,
      `${ref}-esgz`,
    ]);
  } finally {
    await ctd.stop();
    await registry.stop();
    execFileSync('rm', ['-rf', dir]);
  }
  const mbps = (s: number) => (uncompressed / 1e6 / s).toFixed(1);
  const row = (name: string, r: { seconds: number; cpuSeconds: number; maxRssMiB: number }) =>
    console.log(
      `  ${name.padEnd(22)} ${r.seconds.toFixed(2).padStart(7)} s  ${mbps(r.seconds).padStart(7)} MB/s  cpu ${r.cpuSeconds.toFixed(2).padStart(7)} s  peak RSS ${r.maxRssMiB.toFixed(0).padStart(5)} MiB`,
    );
  row('gunzip (floor)', gz);
  row(`gateway, ${oursResult.deflate.split(' ')[0]}`, ours);
  row(`gateway, ${zlibResult.deflate.split(' ')[0]}`, oursZlib);
  row('ctr-remote', theirs);
  summary({
    target: 'eStargz vs ctr-remote, same level and chunk size',
    figure: `${mbps(ours.seconds)} MB/s, ${ours.maxRssMiB.toFixed(0)} MiB RSS (${oursResult.deflate})`,
    reference: `${mbps(theirs.seconds)} MB/s ctr-remote`,
    ratio: `${(theirs.seconds / ours.seconds).toFixed(2)}×`,
    goal: '≥ 3×, RSS ≤ 128 MiB',
    meets: theirs.seconds / ours.seconds >= 3 && ours.maxRssMiB <= 128,
  });
  console.log(
    `  ratio ours/ctr-remote throughput: ${(theirs.seconds / ours.seconds).toFixed(2)}× with ${oursResult.deflate}, ${(theirs.seconds / oursZlib.seconds).toFixed(2)}× with ${zlibResult.deflate}   (output ${(oursResult.size / 1e6).toFixed(0)} MB and ${(zlibResult.size / 1e6).toFixed(0)} MB; ctr-remote's CPU excludes the containerd daemon's share)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
