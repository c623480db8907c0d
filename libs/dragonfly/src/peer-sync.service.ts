import { UserFacingError } from '@accel/common';
import { PeerEntity } from '@accel/db';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { ClusterInventory } from './cluster-inventory';
import { HostDirectory, hostTypeName } from './host-directory';
import { HostMessage } from './messages';

export interface PeerQuery {
  schedulerClusterId?: number;
  hostName?: string;
  ip?: string;
  type?: string;
  page: number;
  perPage: number;
}

const peerKey = (p: { hostName: string; ip: string }) => `${p.hostName}|${p.ip}`;

/**
 * Dragonfly's sync_peers: the `peer` table follows what each cluster's scheduler lists —
 * listed hosts are written (state active), hosts no longer listed are removed.
 */
@Injectable()
export class PeerSyncService {
  private readonly log = new Logger(PeerSyncService.name);

  constructor(
    private readonly inventory: ClusterInventory,
    private readonly directory: HostDirectory,
    @InjectRepository(PeerEntity) private readonly rows: Repository<PeerEntity>,
  ) {}

  /** Syncs the clusters (all when empty) that have schedulers; throws naming every cluster that could not be listed. */
  async sync(clusterIds: number[] = []): Promise<{ clusters: number; peers: number }> {
    const clusters = (await this.inventory.clusters(clusterIds)).filter((c) => c.schedulers.length > 0);
    const errors: string[] = [];
    let peers = 0;
    for (const c of clusters) {
      try {
        peers += await this.merge(c.id, await this.directory.listed(c));
      } catch (e) {
        errors.push(`scheduler cluster ${c.id} (${c.name}): ${(e as Error).message}`);
      }
    }
    if (errors.length) throw new UserFacingError(`sync peers failed: ${errors.join('; ')}`);
    return { clusters: clusters.length, peers };
  }

  private async merge(clusterId: number, hosts: HostMessage[]): Promise<number> {
    const listed = new Map(hosts.map((h) => [peerKey({ hostName: h.hostname, ip: h.ip }), h]));
    const old = await this.rows.findBy({ schedulerClusterId: clusterId });
    const gone = old.filter((p) => !listed.has(peerKey(p))).map((p) => p.id);
    if (gone.length) await this.rows.delete({ id: In(gone) });
    if (hosts.length)
      await this.rows.upsert(
        [...listed.values()].map((h) => ({
          hostName: h.hostname,
          type: hostTypeName(h.type),
          idc: h.network?.idc ?? '',
          location: h.network?.location ?? '',
          ip: h.ip,
          port: h.port,
          downloadPort: h.download_port ?? 0,
          proxyPort: h.proxy_port ?? 0,
          state: 'active',
          os: h.os ?? '',
          platform: h.platform ?? '',
          platformFamily: h.platform_family ?? '',
          platformVersion: h.platform_version ?? '',
          kernelVersion: h.kernel_version ?? '',
          gitVersion: h.build?.git_version ?? '',
          gitCommit: h.build?.git_commit ?? '',
          buildPlatform: h.build?.platform ?? '',
          schedulerClusterId: clusterId,
        })),
        ['hostName', 'ip', 'schedulerClusterId'],
      );
    this.log.log(`scheduler cluster ${clusterId}: ${hosts.length} peer(s) synced, ${gone.length} removed`);
    return hosts.length;
  }

  page(q: PeerQuery): Promise<[PeerEntity[], number]> {
    return this.rows.findAndCount({
      where: {
        isDel: 0,
        ...(q.schedulerClusterId ? { schedulerClusterId: q.schedulerClusterId } : {}),
        ...(q.hostName ? { hostName: q.hostName } : {}),
        ...(q.ip ? { ip: q.ip } : {}),
        ...(q.type ? { type: q.type } : {}),
      },
      order: { id: 'ASC' },
      skip: (q.page - 1) * q.perPage,
      take: q.perPage,
    });
  }

  byId(id: number): Promise<PeerEntity | null> {
    return this.rows.findOneBy({ id, isDel: 0 });
  }

  async remove(id: number): Promise<boolean> {
    return ((await this.rows.delete({ id })).affected ?? 0) > 0;
  }
}
