import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from '@accel/db';
import { modelView } from '@accel/common';

export const clusterView = (c: SchedulerClusterEntity) => ({
  ...modelView(c),
  name: c.name,
  bio: c.bio,
  is_default: c.isDefault,
  config: { job_rate_limit: c.jobRateLimit },
});

export const seedPeerView = (p: SeedPeerEntity) => ({
  ...modelView(p),
  host_name: p.hostName,
  type: p.type,
  ip: p.ip,
  port: p.port,
  download_port: p.downloadPort,
  state: p.state,
  scheduler_cluster_id: p.schedulerClusterId,
});

export const schedulerView = (s: SchedulerEntity) => ({
  ...modelView(s),
  host_name: s.hostName,
  ip: s.ip,
  port: s.port,
  state: s.state,
  scheduler_cluster_id: s.schedulerClusterId,
});
