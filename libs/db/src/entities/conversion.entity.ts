import { Column, Entity, Index } from 'typeorm';
import { BaseModel, bigintNumber, jsonText } from './base.entity';

/** acceld's task states. */
export type ConversionStatus = 'PROCESSING' | 'COMPLETED' | 'FAILED';

/** Where a running conversion is: its phase, and source layers and bytes read of the total. */
export interface ConversionProgressView {
  phase: 'pull' | 'convert' | 'push' | 'preheat' | 'done';
  layers_total: number;
  layers_done: number;
  bytes_total: number;
  bytes_done: number;
}

/** One conversion of a pushed image, listed by `GET /api/v1/conversions` in acceld's shape. */
@Entity('conversion_task')
export class ConversionTaskEntity extends BaseModel {
  /** acceld's task `id` (UUID v4). */
  @Index('uk_conversion_task_uuid', { unique: true })
  @Column({ type: 'char', length: 36 })
  uuid: string;

  /** The resource_url as Harbor sent it. */
  @Column({ type: 'varchar', length: 1024 })
  source: string;

  /** Manifest (or index) digest the conversion is pinned to. */
  @Column({ name: 'source_digest', type: 'varchar', length: 128, default: '' })
  sourceDigest: string;

  /** `<host>/<repo>:<tag><suffix>`. */
  @Column({ type: 'varchar', length: 1024, default: '' })
  target: string;

  @Column({ type: 'varchar', length: 32 })
  driver: string;

  @Column({ type: 'varchar', length: 16, default: 'PROCESSING' })
  status: ConversionStatus;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'source_size', type: 'bigint', default: 0, transformer: bigintNumber })
  sourceSize: number;

  @Column({ name: 'target_size', type: 'bigint', default: 0, transformer: bigintNumber })
  targetSize: number;

  @Column({ name: 'target_digest', type: 'varchar', length: 128, nullable: true })
  targetDigest: string | null;

  @Column({ name: 'preheat_job_id', type: 'bigint', unsigned: true, nullable: true, transformer: bigintNumber })
  preheatJobId: number | null;

  /** sha256(source digest, driver, target) while the task is not FAILED: one live conversion per key. */
  @Index('uk_conversion_task_active_key', { unique: true })
  @Column({ name: 'active_key', type: 'char', length: 64, nullable: true })
  activeKey: string | null;

  @Column({ name: 'finished_at', type: 'datetime', precision: 3, nullable: true })
  finishedAt: Date | null;

  /** How far the task is, written while it runs (null until it starts). */
  @Column({ type: 'text', nullable: true, transformer: jsonText<ConversionProgressView>() })
  progress: ConversionProgressView | null;
}

/** A source layer converted before, with the same settings: its result is reused, not rebuilt. */
@Entity('converted_layer')
@Index('uk_converted_layer', ['sourceDigest', 'settingsKey'], { unique: true })
export class ConvertedLayerEntity extends BaseModel {
  @Column({ name: 'source_digest', type: 'varchar', length: 128 })
  sourceDigest: string;

  /** sha256 of the driver and its output-affecting options. */
  @Column({ name: 'settings_key', type: 'char', length: 64 })
  settingsKey: string;

  /** Where the converted blob was pushed (host[:port] and repository): other repositories mount it from there. */
  @Column({ type: 'varchar', length: 256 })
  registry: string;

  @Column({ type: 'varchar', length: 1024 })
  repository: string;

  @Column({ name: 'target_digest', type: 'varchar', length: 128 })
  targetDigest: string;

  @Column({ name: 'target_size', type: 'bigint', transformer: bigintNumber })
  targetSize: number;

  @Column({ name: 'diff_id', type: 'varchar', length: 128 })
  diffId: string;

  /** The converted layer's descriptor annotations (eStargz: TOC digest and uncompressed size). */
  @Column({ type: 'longtext', transformer: jsonText<Record<string, string>>() })
  annotations: Record<string, string>;
}
