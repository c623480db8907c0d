import { buildConfig } from '@accel/config';
import { JobEntity, JobStateEntry, TaskCacheJobEntity } from '@accel/db';
import {
  ClusterInventory,
  ClusterView,
  DragonflyClients,
  HashRing,
  HostDirectory,
  NodeAddress,
} from '@accel/dragonfly';
import {
  ClusterCannotServe,
  PreheatArgs,
  TargetPlanner,
  TaskCacheEngine,
  JobRepository,
  SeedDownloadDispatcher,
  countedClusters,
  filterHosts,
  groupState,
  stateEntry,
  summarizeFailures,
} from '@accel/preheat';
import { RegistrySlots } from '../../libs/preheat/src/registry-slots';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, preheat: { registrySlots: 2 } });
const host = (n: number, ip = `10.0.0.${n}`): NodeAddress => ({ hostname: `seed-${n}`, ip, port: 4000 + n });
const job = (clusterIds: number[] = []) =>
  Object.assign(new JobEntity(), { taskId: 'group_x', createdAt: new Date(0), schedulerClusterIds: clusterIds });
const args = (over: Partial<PreheatArgs> = {}) =>
  ({ scope: 'single_seed_peer', ips: [], count: null, percentage: null, ...over }) as unknown as PreheatArgs;

/** The planner over a mocked inventory (health) and mocked gRPC clients (ListHosts). */
function planner(
  healthy: (n: NodeAddress) => boolean,
  listed: { hostname: string; ip: string; port: number; type: number }[] = [],
) {
  const inventory = { isHealthy: async (n: NodeAddress) => healthy(n) } as unknown as ClusterInventory;
  const clients = { listHosts: async () => listed } as unknown as DragonflyClients;
  return new TargetPlanner(inventory, new HostDirectory(clients, config));
}

describe('preheat logic (services with mocked dependencies)', () => {
  it('filters hosts as the Dragonfly scheduler does: ips first, then count, then percentage (at least one)', () => {
    const hosts = [1, 2, 3, 4, 5].map((n) => host(n));
    assert.deepEqual(
      filterHosts(hosts, { ips: ['10.0.0.2', '10.0.0.9'], count: 1, percentage: 10 }).map((h) => h.hostname),
      ['seed-2'],
    );
    assert.deepEqual(
      filterHosts(hosts, { ips: [], count: 2, percentage: 90 }).map((h) => h.hostname),
      ['seed-1', 'seed-2'],
    );
    assert.equal(filterHosts(hosts, { ips: [], count: null, percentage: 50 }).length, 2);
    assert.equal(filterHosts(hosts, { ips: [], count: null, percentage: 1 }).length, 1);
    assert.equal(filterHosts(hosts, { ips: [], count: null, percentage: null }).length, 5);
  });

  it("single_seed_peer: one healthy seed peer per task, the one the scheduler's hash ring picks; none healthy cannot serve", async () => {
    const seeds = [1, 2, 3].map((n) => host(n));
    const cluster: ClusterView = { id: 1, name: 'c1', jobRateLimit: 10, seedPeers: seeds, schedulers: [] };
    const plan = await planner((n) => n.hostname !== 'seed-2').plan(cluster, args());
    assert.deepEqual(
      plan.hosts.map((h) => h.hostname),
      ['seed-1', 'seed-3'],
    );
    const ring = new HashRing([seeds[0], seeds[2]], (n) => `${n.ip}:${n.port}`);
    for (const task of ['a', 'b', 'c', 'd']) assert.deepEqual(plan.targetsFor(task), [ring.get(task)]);
    await assert.rejects(
      planner(() => false).plan(cluster, args()),
      (e: Error) => e instanceof ClusterCannotServe && /seed-1 .* failed the gRPC health check/.test(e.message),
    );
    await assert.rejects(
      planner(() => true).plan({ ...cluster, seedPeers: [] }, args()),
      (e: Error) => e instanceof ClusterCannotServe && /has no seed peers/.test(e.message),
    );
  });

  it('all_seed_peers keeps unhealthy seed peers (they must show as failures); all_peers takes the normal hosts the scheduler lists', async () => {
    const cluster: ClusterView = {
      id: 1,
      name: 'c1',
      jobRateLimit: 10,
      seedPeers: [host(1), host(2)],
      schedulers: [host(9)],
    };
    const all = await planner(() => false).plan(cluster, args({ scope: 'all_seed_peers' }));
    assert.deepEqual(
      all.targetsFor('t').map((h) => h.hostname),
      ['seed-1', 'seed-2'],
    );
    const listed = [
      { hostname: 'peer-a', ip: '10.1.0.1', port: 1, type: 0 },
      { hostname: 'seed-x', ip: '10.1.0.2', port: 2, type: 1 },
      { hostname: 'peer-b', ip: '10.1.0.3', port: 3, type: 0 },
    ];
    const peers = await planner(() => true, listed).plan(cluster, args({ scope: 'all_peers', count: 1 }));
    assert.deepEqual(
      peers.hosts.map((h) => h.hostname),
      ['peer-a'],
    );
    await assert.rejects(
      planner(() => true, listed).plan({ ...cluster, schedulers: [] }, args({ scope: 'all_peers' })),
      ClusterCannotServe,
    );
  });

  it('counts clusters: named ones all count; with none named, clusters that cannot serve are skipped unless none can', () => {
    const served = {
      cluster: { id: 1, name: 'c1', jobRateLimit: 10, seedPeers: [], schedulers: [] },
      entry: stateEntry(job(), 'SUCCESS', '', []),
      cannotServe: false,
    };
    const empty = {
      cluster: { id: 2, name: 'c2', jobRateLimit: 10, seedPeers: [], schedulers: [] },
      entry: stateEntry(job(), 'FAILURE', 'scheduler cluster 2 (c2) has no seed peers', []),
      cannotServe: true,
    };
    const byDefault = countedClusters(job(), [served, empty]);
    assert.equal(groupState(job(), byDefault.entries, true).state, 'SUCCESS');
    assert.deepEqual(byDefault.skipped, [
      { scheduler_cluster_id: 2, name: 'c2', reason: 'scheduler cluster 2 (c2) has no seed peers' },
    ]);
    const named = countedClusters(job([1, 2]), [served, empty]);
    assert.equal(groupState(job([1, 2]), named.entries, true).state, 'FAILURE');
    assert.equal(
      groupState(job(), countedClusters(job(), [empty]).entries, true).state,
      'FAILURE',
      'no cluster could serve',
    );
  });

  it("group state as Dragonfly computes it, and one readable failure line for Harbor's job log", () => {
    const ok: JobStateEntry = stateEntry(job(), 'SUCCESS', '', []);
    const bad: JobStateEntry = stateEntry(job(), 'FAILURE', 'x', []);
    assert.equal(groupState(job(), [ok, ok], true).state, 'SUCCESS');
    assert.equal(groupState(job(), [ok, bad], true).state, 'FAILURE');
    assert.equal(groupState(job(), [ok], false).state, 'PENDING');
    assert.equal(groupState(job(), [], true).state, 'FAILURE', 'an empty final result is no success');
    const many = Array.from({ length: 8 }, (_, i) => ({ description: `reason ${i % 7}` }));
    assert.equal(
      summarizeFailures(10, many),
      '8 of 10 downloads failed: reason 0; reason 1; reason 2; reason 3; reason 4; and 2 more',
    );
    assert.equal(summarizeFailures(3, []), '');
  });

  it('registry slots: at most preheat.registrySlots per registry, others unaffected, released once', () => {
    const slots = new RegistrySlots(config);
    const a = slots.tryTake('Harbor.example:443')!;
    const b = slots.tryTake('harbor.example:443')!;
    assert.equal(slots.tryTake('harbor.example:443'), undefined, 'the third job on one registry waits');
    assert.ok(slots.tryTake('other.example'), 'another registry still has slots');
    a();
    a();
    assert.ok(slots.tryTake('harbor.example:443'), 'a released slot is free again');
    assert.equal(slots.tryTake('harbor.example:443'), undefined, 'a double release frees one slot only');
    b();
  });

  it('a get_task with no cluster to ask ends FAILURE saying so (never an empty SUCCESS or a job left PENDING)', async () => {
    const finished: { state: string; result: { job_states: { error: string }[] } }[] = [];
    const engine = new TaskCacheEngine(
      config,
      { clusters: async () => [] } as unknown as ClusterInventory,
      {} as HostDirectory,
      {} as DragonflyClients,
      {
        finish: async (_: number, state: string, result: never) => void finished.push({ state, result }),
      } as unknown as JobRepository,
      {} as SeedDownloadDispatcher,
    );
    const job = Object.assign(new JobEntity(), {
      id: 1,
      type: 'get_task',
      taskId: 'group_x',
      createdAt: new Date(),
      schedulerClusterIds: [],
      args: { task_id: 'abc', url: '', timeout: 60e9, concurrent_peer_count: 10 },
    }) as TaskCacheJobEntity;
    await engine.run(job);
    assert.equal(finished.length, 1);
    assert.equal(finished[0].state, 'FAILURE');
    assert.match(finished[0].result.job_states[0].error, /no scheduler cluster is configured/);
  });
});
