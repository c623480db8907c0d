import { GatewayConfig } from '@accel/config';
import { Injectable } from '@nestjs/common';
import { ClusterView } from './cluster-inventory';
import { DragonflyClients, NodeAddress } from './grpc-clients';
import { HostMessage } from './messages';

/** Dragonfly's host type names (pkg/types): seed peers are `super`. */
export type HostTypeName = 'normal' | 'super';

export interface KnownHost extends NodeAddress {
  /** The scheduler's host id, `<ip>-<hostname>` (`-seed` for seed peers). */
  id: string;
  type: HostTypeName;
}

export interface HostListing {
  hosts: KnownHost[];
  /** Why the cluster's schedulers could not list their hosts (the seed peers are still known). */
  error?: string;
}

/** Dragonfly's Host.type: 0 normal, anything else a seed peer. */
export const hostTypeName = (type: number): HostTypeName => (type === 0 ? 'normal' : 'super');

const hostId = (n: NodeAddress, type: HostTypeName) => `${n.ip}-${n.hostname}${type === 'super' ? '-seed' : ''}`;
const addressKey = (n: NodeAddress) => `${n.ip}:${n.port}`;

/** Every host of a scheduler cluster: its configured seed peers and what its schedulers list. */
@Injectable()
export class HostDirectory {
  constructor(
    private readonly clients: DragonflyClients,
    private readonly config: GatewayConfig,
  ) {}

  /** What the cluster's first answering scheduler lists (ListHosts), as sent; throws when none answers. */
  async listed(cluster: ClusterView): Promise<HostMessage[]> {
    if (cluster.schedulers.length === 0)
      throw new Error(`scheduler cluster ${cluster.id} (${cluster.name}) has no schedulers to list peers from`);
    const errors: string[] = [];
    for (const s of cluster.schedulers) {
      try {
        return await this.clients.listHosts(s, this.config.preheat.healthTimeoutMs * 5);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    throw new Error(errors.join('; '));
  }

  /** The hosts the cluster's first answering scheduler lists; throws when none answers. */
  async scheduled(cluster: ClusterView): Promise<KnownHost[]> {
    return (await this.listed(cluster)).map((h) => {
      const type = hostTypeName(h.type);
      const node = { hostname: h.hostname, ip: h.ip, port: h.port };
      return { ...node, type, id: h.id || hostId(node, type) };
    });
  }

  /** Seed peers first, then the scheduler's hosts, one entry per address. */
  async all(cluster: ClusterView): Promise<HostListing> {
    const seeds: KnownHost[] = cluster.seedPeers.map((p) => ({ ...p, type: 'super', id: hostId(p, 'super') }));
    let listed: KnownHost[] = [];
    let error: string | undefined;
    if (cluster.schedulers.length) {
      try {
        listed = await this.scheduled(cluster);
      } catch (e) {
        error = (e as Error).message;
      }
    }
    const seen = new Set<string>();
    const hosts = [...seeds, ...listed].filter((h) => !seen.has(addressKey(h)) && seen.add(addressKey(h)));
    return { hosts, error };
  }
}
