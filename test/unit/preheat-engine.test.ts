import { GatewayMetrics, SecretBox } from '@accel/common';
import { buildConfig } from '@accel/config';
import { JobEntity, PreheatJobEntity } from '@accel/db';
import { ClusterInventory, ClusterView } from '@accel/dragonfly';
import {
  JobRepository,
  PreheatEngine,
  SeedDownloadDispatcher,
  TargetPlanner,
  buildArgs,
  v1StatusView,
} from '@accel/preheat';
import { ImageResolver } from '@accel/registry';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistrySlots } from '../../libs/preheat/src/registry-slots';

const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, registry: { allowed: ['r.example'] } });
const seed = { hostname: 'seed-1', ip: '10.0.0.1', port: 4000 };
const cluster: ClusterView = { id: 1, name: 'c1', jobRateLimit: 10, seedPeers: [seed], schedulers: [] };

/**
 * The engine over a job row in memory (the repository's writes recorded, a finished row no
 * longer PENDING) and seed-peer downloads that take `downloadMs` each.
 */
function world(downloadMs: number) {
  const row = Object.assign(new JobEntity(), {
    id: 7,
    taskId: 'group_x',
    type: 'preheat',
    state: 'PENDING',
    dialect: 'dragonfly-v2',
    args: buildArgs({ type: 'image', url: 'https://r.example/v2/lib/app/manifests/v1', scope: 'single_seed_peer' }),
    result: null,
    schedulerClusterIds: [],
    sealedHeaders: null,
    manifestDigest: null,
    createdAt: new Date(),
  }) as PreheatJobEntity;
  const writes: { kind: 'progress' | 'finish'; v1: string }[] = [];
  const jobs = {
    recordProgress: async (_: number, result: PreheatJobEntity['result']) => {
      if (row.state !== 'PENDING') return;
      row.result = result;
      writes.push({ kind: 'progress', v1: v1StatusView(row).status });
    },
    finish: async (_: number, state: 'SUCCESS' | 'FAILURE', result: PreheatJobEntity['result']) => {
      Object.assign(row, { state, result });
      writes.push({ kind: 'finish', v1: v1StatusView(row).status });
    },
  } as unknown as JobRepository;
  const resolver = {
    resolve: async () => ({
      digest: 'sha256:' + 'a'.repeat(64),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      manifests: [],
      blobs: [
        { digest: 'sha256:' + 'b'.repeat(64), size: 1, mediaType: 'x', url: 'https://r.example/v2/lib/app/blobs/b' },
      ],
    }),
  } as unknown as ImageResolver;
  const inventory = { clusters: async () => [cluster] } as unknown as ClusterInventory;
  const planner = { plan: async () => ({ hosts: [seed], targetsFor: () => [seed] }) } as unknown as TargetPlanner;
  const downloads = {
    run: () =>
      new Promise((r) => setTimeout(() => r({ taskId: 't', hostId: 'h', contentLength: 1, pieces: 1 }), downloadMs)),
  } as unknown as SeedDownloadDispatcher;
  const engine = new PreheatEngine(
    config,
    new SecretBox(config),
    resolver,
    inventory,
    planner,
    downloads,
    new RegistrySlots(config),
    jobs,
    new GatewayMetrics(),
  );
  return { engine, row, writes };
}

describe('PreheatEngine (registry, peers and job table mocked)', () => {
  it('a job done within half a second is written once, when it ends', async () => {
    const { engine, row, writes } = world(5);
    await engine.run(row);
    assert.deepEqual(writes, [{ kind: 'finish', v1: 'SUCCESS' }]);
  });

  it('a longer job shows RUNNING to v1 pollers within half a second of starting', async () => {
    const { engine, row, writes } = world(900);
    const started = Date.now();
    const done = engine.run(row);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(
      writes.length > 0 && writes.every((w) => w.kind === 'progress' && w.v1 === 'RUNNING'),
      `after ${Date.now() - started} ms: ${JSON.stringify(writes)}`,
    );
    await done;
    assert.deepEqual(writes.at(-1), { kind: 'finish', v1: 'SUCCESS' });
  });
});
