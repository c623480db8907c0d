import { modelView } from '@accel/common';
import { PeerEntity } from '@accel/db';

/** Dragonfly's Peer JSON (models.Peer). */
export const peerView = (p: PeerEntity) => ({
  ...modelView(p),
  host_name: p.hostName,
  type: p.type,
  idc: p.idc,
  location: p.location,
  ip: p.ip,
  port: p.port,
  download_port: p.downloadPort,
  proxy_port: p.proxyPort,
  object_storage_port: 0,
  state: p.state,
  os: p.os,
  platform: p.platform,
  platform_family: p.platformFamily,
  platform_version: p.platformVersion,
  kernel_version: p.kernelVersion,
  git_version: p.gitVersion,
  git_commit: p.gitCommit,
  build_platform: p.buildPlatform,
  scheduler_cluster_id: p.schedulerClusterId,
});
