import { Column, Entity, Index } from 'typeorm';
import { BaseModel } from './base.entity';

export type AuditActorType = 'USER' | 'PAT' | 'CUSTOM' | 'ANONYMOUS' | 'UNKNOWN';
export type AuditEventType = 'API' | 'PROVIDER' | 'WEBHOOK';

/** Who did what: every mutating call, and every provider and webhook call. */
@Entity('audit')
export class AuditEntity extends BaseModel {
  @Column({ name: 'actor_type', type: 'varchar', length: 32 })
  actorType: AuditActorType;

  @Column({ name: 'actor_name', type: 'varchar', length: 256 })
  actorName: string;

  @Column({ name: 'event_type', type: 'varchar', length: 32 })
  eventType: AuditEventType;

  /** HTTP method. */
  @Column({ type: 'varchar', length: 16 })
  operation: string;

  /** Path without the query string (which may hold an access token). */
  @Column({ type: 'varchar', length: 1024 })
  path: string;

  /** What was acted on (job id, image, token name), never a secret. */
  @Column({ type: 'varchar', length: 1024, default: '' })
  target: string;

  @Column({ type: 'varchar', length: 16 })
  state: 'SUCCESS' | 'FAILURE';

  @Column({ name: 'status_code', type: 'int' })
  statusCode: number;

  @Column({ name: 'remote_ip', type: 'varchar', length: 64, default: '' })
  remoteIp: string;
}

/** A registry the gateway may read from, managed at runtime. The password is sealed. */
@Entity('registry')
export class RegistryEntity extends BaseModel {
  @Index('uk_registry_host', { unique: true })
  @Column({ type: 'varchar', length: 256 })
  host: string;

  @Column({ type: 'varchar', length: 256, default: '' })
  username: string;

  @Column({ name: 'sealed_password', type: 'text', nullable: true })
  sealedPassword: string | null;

  @Column({ type: 'boolean', default: false })
  insecure: boolean;

  @Column({ name: 'plain_http', type: 'boolean', default: false })
  plainHttp: boolean;

  /** host[:port] of the token service its credentials may be sent to; empty = the registry itself. */
  @Column({ name: 'token_realm', type: 'varchar', length: 512, default: '' })
  tokenRealm: string;
}
