import { ClusterInventory, ClusterView, HashRing, HostDirectory, NodeAddress } from '@accel/dragonfly';
import { UserFacingError } from '@accel/common';
import { Injectable } from '@nestjs/common';
import { PreheatArgs } from './preheat-args';

/** The cluster has nothing to preheat into (no seed peers, none healthy, no matching peers): it cannot serve. */
export class ClusterCannotServe extends UserFacingError {}

/** Picks, per blob, the hosts that must hold it after the preheat. */
export interface TargetPlan {
  /** Hosts for a task id. */
  targetsFor(taskId: string): NodeAddress[];
  /** Every host considered, for the record. */
  hosts: NodeAddress[];
}

/** `ips` first, then `count`, then `percentage` (at least one host), as the Dragonfly scheduler filters. */
export function filterHosts<T extends NodeAddress>(
  hosts: T[],
  args: Pick<PreheatArgs, 'ips' | 'count' | 'percentage'>,
): T[] {
  if (args.ips.length > 0) return hosts.filter((h) => args.ips.includes(h.ip));
  if (args.count) return hosts.slice(0, args.count);
  if (args.percentage) return hosts.slice(0, Math.max(1, Math.floor((hosts.length * args.percentage) / 100)));
  return hosts;
}

const key = (n: NodeAddress): string => `${n.ip}:${n.port}`;

@Injectable()
export class TargetPlanner {
  constructor(
    private readonly inventory: ClusterInventory,
    private readonly directory: HostDirectory,
  ) {}

  async plan(cluster: ClusterView, args: PreheatArgs): Promise<TargetPlan> {
    switch (args.scope) {
      case 'single_seed_peer': {
        const checks = await Promise.all(
          cluster.seedPeers.map(async (p) => ((await this.inventory.isHealthy(p)) ? p : undefined)),
        );
        const healthy = checks.filter((p): p is NodeAddress => p !== undefined);
        if (healthy.length === 0) {
          const names = cluster.seedPeers.map((p) => `${p.hostname} (${key(p)})`).join(', ');
          throw new ClusterCannotServe(
            cluster.seedPeers.length
              ? `no healthy seed peer in scheduler cluster ${cluster.id} (${cluster.name}): ${names} failed the gRPC health check`
              : `scheduler cluster ${cluster.id} (${cluster.name}) has no seed peers`,
          );
        }
        const ring = new HashRing(healthy, key);
        return { hosts: healthy, targetsFor: (taskId) => [ring.get(taskId) as NodeAddress] };
      }
      case 'all_seed_peers': {
        // Every seed peer is required, healthy or not: one that is down must show up as a failure.
        const hosts = filterHosts(cluster.seedPeers, args);
        if (hosts.length === 0)
          throw new ClusterCannotServe(
            `no seed peer of scheduler cluster ${cluster.id} (${cluster.name}) matches the request`,
          );
        return { hosts, targetsFor: () => hosts };
      }
      case 'all_peers': {
        const hosts = filterHosts(await this.listPeers(cluster), args);
        if (hosts.length === 0)
          throw new ClusterCannotServe(
            `no peer of scheduler cluster ${cluster.id} (${cluster.name}) matches the request`,
          );
        return { hosts, targetsFor: () => hosts };
      }
    }
  }

  /** Normal (non-seed) hosts the cluster's first reachable scheduler lists. */
  private async listPeers(cluster: ClusterView): Promise<NodeAddress[]> {
    try {
      const hosts = await this.directory.scheduled(cluster);
      return hosts.filter((h) => h.type === 'normal').map((h) => ({ hostname: h.hostname, ip: h.ip, port: h.port }));
    } catch (e) {
      throw new ClusterCannotServe((e as Error).message);
    }
  }
}
