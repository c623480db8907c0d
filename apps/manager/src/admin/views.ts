import { PersonalAccessTokenEntity, SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from '@accel/db';

const base = (e: { id: number; createdAt: Date; updatedAt: Date }) => ({
  id: e.id,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
  is_del: 0,
});

/** A token as listed: never the token or its hash. */
export const tokenView = (t: PersonalAccessTokenEntity) => ({
  ...base(t),
  name: t.name,
  bio: t.bio,
  scopes: t.scopes,
  state: t.state,
  expired_at: t.expiredAt.toISOString(),
  user_id: t.userId,
});

export const clusterView = (c: SchedulerClusterEntity) => ({
  ...base(c),
  name: c.name,
  bio: c.bio,
  is_default: c.isDefault,
});

export const seedPeerView = (p: SeedPeerEntity) => ({
  ...base(p),
  host_name: p.hostName,
  type: p.type,
  ip: p.ip,
  port: p.port,
  download_port: p.downloadPort,
  state: p.state,
  scheduler_cluster_id: p.schedulerClusterId,
});

export const schedulerView = (s: SchedulerEntity) => ({
  ...base(s),
  host_name: s.hostName,
  ip: s.ip,
  port: s.port,
  state: s.state,
  scheduler_cluster_id: s.schedulerClusterId,
});
