import { Column, Entity, Index } from 'typeorm';
import { BaseModel, bigintNumber } from './base.entity';

export type NodeState = 'active' | 'inactive';

@Entity('scheduler_cluster')
export class SchedulerClusterEntity extends BaseModel {
  @Index('uk_scheduler_cluster_name', { unique: true })
  @Column({ type: 'varchar', length: 256 })
  name: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  bio: string;

  @Column({ name: 'is_default', type: 'boolean', default: false })
  isDefault: boolean;

  /** Dragonfly's `config.job_rate_limit`: job creations per second naming this cluster. */
  @Column({ name: 'job_rate_limit', type: 'int', unsigned: true, default: 10 })
  jobRateLimit: number;
}

@Entity('scheduler')
@Index('uk_scheduler', ['hostName', 'ip', 'schedulerClusterId'], { unique: true })
export class SchedulerEntity extends BaseModel {
  @Column({ name: 'host_name', type: 'varchar', length: 256 })
  hostName: string;

  @Column({ type: 'varchar', length: 256 })
  ip: string;

  @Column({ type: 'int' })
  port: number;

  @Column({ type: 'varchar', length: 256, default: 'inactive' })
  state: NodeState;

  @Column({ name: 'scheduler_cluster_id', type: 'bigint', unsigned: true, transformer: bigintNumber })
  schedulerClusterId: number;
}

@Entity('seed_peer')
@Index('uk_seed_peer', ['hostName', 'ip', 'schedulerClusterId'], { unique: true })
export class SeedPeerEntity extends BaseModel {
  @Column({ name: 'host_name', type: 'varchar', length: 256 })
  hostName: string;

  @Column({ type: 'varchar', length: 256, default: 'super' })
  type: string;

  @Column({ type: 'varchar', length: 256 })
  ip: string;

  /** dfdaemon upload gRPC port (4000 on Rust seed clients). */
  @Column({ type: 'int' })
  port: number;

  @Column({ name: 'download_port', type: 'int' })
  downloadPort: number;

  @Column({ type: 'varchar', length: 256, default: 'inactive' })
  state: NodeState;

  /** Cluster the seed peer serves; Dragonfly links seed-peer clusters to scheduler clusters 1:1 by default. */
  @Column({ name: 'scheduler_cluster_id', type: 'bigint', unsigned: true, transformer: bigintNumber })
  schedulerClusterId: number;
}
