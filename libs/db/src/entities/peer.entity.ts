import { Column, Entity, Index } from 'typeorm';
import { BaseModel, bigintNumber } from './base.entity';

/** A host a scheduler announced, as Dragonfly's manager keeps it after `sync_peers` (table `peer`). */
@Entity('peer')
@Index('uk_peer', ['hostName', 'ip', 'schedulerClusterId'], { unique: true })
export class PeerEntity extends BaseModel {
  @Column({ name: 'host_name', type: 'varchar', length: 256 })
  hostName: string;

  /** `normal` or `super` (seed peer). */
  @Index('idx_peer_type')
  @Column({ type: 'varchar', length: 256, default: '' })
  type: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  idc: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  location: string;

  @Column({ type: 'varchar', length: 256 })
  ip: string;

  @Column({ type: 'int' })
  port: number;

  @Column({ name: 'download_port', type: 'int', default: 0 })
  downloadPort: number;

  @Column({ name: 'proxy_port', type: 'int', default: 0 })
  proxyPort: number;

  @Column({ type: 'varchar', length: 256, default: 'active' })
  state: string;

  @Column({ type: 'varchar', length: 256, default: '' })
  os: string;

  @Column({ type: 'varchar', length: 256, default: '' })
  platform: string;

  @Column({ name: 'platform_family', type: 'varchar', length: 256, default: '' })
  platformFamily: string;

  @Column({ name: 'platform_version', type: 'varchar', length: 256, default: '' })
  platformVersion: string;

  @Column({ name: 'kernel_version', type: 'varchar', length: 256, default: '' })
  kernelVersion: string;

  @Column({ name: 'git_version', type: 'varchar', length: 256, default: '' })
  gitVersion: string;

  @Column({ name: 'git_commit', type: 'varchar', length: 256, default: '' })
  gitCommit: string;

  @Column({ name: 'build_platform', type: 'varchar', length: 256, default: '' })
  buildPlatform: string;

  @Column({ name: 'scheduler_cluster_id', type: 'bigint', unsigned: true, transformer: bigintNumber })
  schedulerClusterId: number;
}
