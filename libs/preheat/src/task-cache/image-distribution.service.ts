import { UserFacingError, mapLimit } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import {
  ClusterInventory,
  DEFAULT_FILTERED_QUERY_PARAMS_STRING,
  DragonflyClients,
  HostDirectory,
  KnownHost,
  computeTaskId,
  splitFilteredQueryParams,
} from '@accel/dragonfly';
import { ImageResolver, RegistryAccess, parseManifestUrl, parsePlatform, platformSelection } from '@accel/registry';
import { Injectable } from '@nestjs/common';
import { DEFAULT_CONCURRENT_PEER_COUNT, DEFAULT_TIMEOUT_NS } from '../preheat-args';

/** get_image_distribution's args (types.GetImageDistributionArgs), before defaults. */
export interface ImageDistributionRequest {
  url: string;
  piece_length?: number | null;
  tag?: string;
  application?: string;
  filtered_query_params?: string;
  headers?: Record<string, string>;
  platform?: string;
  concurrent_layer_count?: number;
  concurrent_peer_count?: number;
  timeout?: number;
  schedulerClusterIds?: number[] | null;
}

/** Dragonfly's CreateGetImageDistributionJobResponse. */
export interface ImageDistribution {
  image: { layers: { url: string }[] };
  peers: { ip: string; hostname: string; cached_layers: { url: string }[]; scheduler_cluster_id: number }[];
}

const DEFAULT_CONCURRENT_LAYER_COUNT = 8;

/**
 * Which blobs of an image each normal peer holds in full: the image is resolved as a preheat
 * resolves it (same auth and platform rules), then every normal host of each cluster is asked
 * (StatLocalTask) for every blob's task. Synchronous, as Dragonfly answers it.
 */
@Injectable()
export class ImageDistributionService {
  constructor(
    private readonly config: GatewayConfig,
    private readonly access: RegistryAccess,
    private readonly resolver: ImageResolver,
    private readonly inventory: ClusterInventory,
    private readonly directory: HostDirectory,
    private readonly clients: DragonflyClients,
  ) {}

  async distribution(r: ImageDistributionRequest): Promise<ImageDistribution> {
    const loc = parseManifestUrl(r.url);
    this.access.assertAllowed(r.url);
    if (r.platform && r.platform.toLowerCase() !== 'all') parsePlatform(r.platform);
    const deadline = Date.now() + (r.timeout || DEFAULT_TIMEOUT_NS) / 1e6;
    const clusters = await this.inventory.clusters([...new Set(r.schedulerClusterIds ?? [])]);
    const selection = platformSelection(r.platform ? [r.platform] : this.config.preheat.defaultPlatforms);
    const authorization = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    const image = await this.resolver.resolve(loc, selection, { authorization });
    if (image.blobs.length === 0) throw new UserFacingError('no valid image layers found');
    const filtered = splitFilteredQueryParams(r.filtered_query_params || DEFAULT_FILTERED_QUERY_PARAMS_STRING);
    const layers = image.blobs.map((b) => ({
      url: b.url,
      taskId: computeTaskId({
        url: b.url,
        tag: r.tag,
        application: r.application,
        pieceLength: r.piece_length ?? undefined,
        filteredQueryParams: filtered,
      }),
    }));
    const peers: ImageDistribution['peers'] = [];
    for (const cluster of clusters) {
      const { hosts } = await this.directory.all(cluster);
      const normal = hosts.filter((h) => h.type === 'normal');
      const cached = new Map<KnownHost, string[]>(normal.map((h) => [h, []]));
      await mapLimit(layers, r.concurrent_layer_count || DEFAULT_CONCURRENT_LAYER_COUNT, (layer) =>
        mapLimit(normal, r.concurrent_peer_count || DEFAULT_CONCURRENT_PEER_COUNT, async (host) => {
          const timeout = Math.max(1, Math.min(deadline - Date.now(), this.config.preheat.peerConnectTimeoutMs));
          const local = await this.clients.statLocalTask(host, layer.taskId, timeout).catch(() => undefined);
          // Held means held in full: a download still under way is not a cached layer yet.
          if (local?.finished_at) cached.get(host)!.push(layer.url);
        }),
      );
      for (const [host, urls] of cached) {
        if (urls.length === 0) continue;
        const order = layers.map((l) => l.url).filter((u) => urls.includes(u));
        peers.push({
          ip: host.ip,
          hostname: host.hostname,
          cached_layers: order.map((url) => ({ url })),
          scheduler_cluster_id: cluster.id,
        });
      }
    }
    return { image: { layers: layers.map((l) => ({ url: l.url })) }, peers };
  }
}
