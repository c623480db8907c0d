import { AuditEntity } from '@accel/db';

export const auditView = (a: AuditEntity) => ({
  id: a.id,
  actor_type: a.actorType,
  actor_name: a.actorName,
  event_type: a.eventType,
  operation: a.operation,
  operated_at: a.createdAt.toISOString(),
  state: a.state,
  path: a.path,
  target: a.target,
  status_code: a.statusCode,
  remote_ip: a.remoteIp,
});
