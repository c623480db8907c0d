import { GatewayMetrics } from '@accel/common';
import { buildConfig } from '@accel/config';
import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from '@accel/db';
import { ClusterInventory, ClusterRepository, DragonflyClients, UnknownClusterError } from '@accel/dragonfly';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

/** A cluster table in memory that counts its reads and tells its listeners about writes, as the repository does. */
function world(inventoryCacheSeconds: number) {
  const reads = { clusters: 0, seedPeers: 0, schedulers: 0 };
  const listeners: (() => void)[] = [];
  const clusters = [Object.assign(new SchedulerClusterEntity(), { id: 1, name: 'c1', jobRateLimit: 10 })];
  const seeds = [
    Object.assign(new SeedPeerEntity(), { hostName: 's1', ip: '10.0.0.1', port: 4000, schedulerClusterId: 1 }),
  ];
  const rows = {
    onChange: (l: () => void) => void listeners.push(l),
    clusters: async () => (reads.clusters++, [...clusters]),
    seedPeers: async () => (reads.seedPeers++, [...seeds]),
    schedulers: async () => (reads.schedulers++, [] as SchedulerEntity[]),
  } as unknown as ClusterRepository;
  const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, preheat: { inventoryCacheSeconds } });
  const inventory = new ClusterInventory(config, {} as DragonflyClients, rows, new GatewayMetrics());
  const addSeedPeer = (hostName: string, ip: string) => {
    seeds.push(Object.assign(new SeedPeerEntity(), { hostName, ip, port: 4000, schedulerClusterId: 1 }));
    for (const l of listeners) l();
  };
  return { inventory, reads, addSeedPeer };
}

describe('ClusterInventory (cluster tables mocked)', () => {
  it('jobs running together read the clusters once; a change made through this process shows at once', async () => {
    const { inventory, reads, addSeedPeer } = world(60);
    const views = await Promise.all(Array.from({ length: 50 }, () => inventory.clusters([1])));
    assert.deepEqual(reads, { clusters: 1, seedPeers: 1, schedulers: 1 }, 'one read of each table for 50 jobs');
    assert.deepEqual(
      views[49].map((c) => ({ id: c.id, jobRateLimit: c.jobRateLimit, seeds: c.seedPeers.map((s) => s.hostname) })),
      [{ id: 1, jobRateLimit: 10, seeds: ['s1'] }],
    );
    addSeedPeer('s2', '10.0.0.2');
    const after = await inventory.clusters([1]);
    assert.deepEqual(
      after[0].seedPeers.map((s) => s.hostname),
      ['s1', 's2'],
      'the added seed peer is used by the next job',
    );
    await assert.rejects(inventory.clusters([1, 7]), UnknownClusterError, 'an unknown cluster still fails naming it');
  });

  it('with the cache off every job reads the tables', async () => {
    const { inventory, reads } = world(0);
    await inventory.clusters([]);
    await inventory.clusters([1]);
    assert.deepEqual(reads, { clusters: 2, seedPeers: 2, schedulers: 2 });
  });
});
