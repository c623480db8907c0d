import { Column, Entity, Index } from 'typeorm';
import { BaseModel, bigintNumber, jsonText } from './base.entity';

/** The only states a job row ever shows, as the Dragonfly manager's group state. */
export type JobState = 'PENDING' | 'SUCCESS' | 'FAILURE';

/** Which caller dialect created the job: decides nothing but how it is reported. */
export type JobDialect = 'dragonfly-v2' | 'dragonfly-v1' | 'kraken' | 'admin' | 'conversion';

export interface PreheatTaskOutcome {
  url: string;
  hostname: string;
  ip: string;
}

export interface PreheatFailureOutcome extends PreheatTaskOutcome {
  description: string;
}

export interface PreheatClusterResult {
  success_tasks: PreheatTaskOutcome[];
  failure_tasks: PreheatFailureOutcome[];
  scheduler_cluster_id: number;
}

export interface JobStateEntry {
  task_uuid: string;
  task_name: string;
  state: JobState;
  error: string;
  created_at: string;
  ttl: number;
  results: PreheatClusterResult[];
}

/** How far a running preheat is: (blob, host) downloads. */
export interface PreheatProgress {
  total: number;
  succeeded: number;
  failed: number;
  /** Bytes the peers reported for finished downloads. */
  bytes: number;
}

/** Dragonfly's GroupJobState, stored as the job's `result` (plus `progress`, which Harbor ignores). */
export interface GroupJobState {
  group_uuid: string;
  state: JobState;
  created_at: string;
  updated_at: string;
  job_states: JobStateEntry[];
  progress?: PreheatProgress;
  /** Clusters of a default-scope job that could not serve (no seed peers, none healthy): not run, not counted. */
  skipped_scheduler_clusters?: SkippedCluster[];
}

export interface SkippedCluster {
  scheduler_cluster_id: number;
  name: string;
  reason: string;
}

/** Dragonfly's preheat scopes, as a job runs them (Harbor 2.12's `single_peer` is stored as `single_seed_peer`). */
export type PreheatScope = 'single_seed_peer' | 'all_seed_peers' | 'all_peers';

/** A preheat job's `args`: Dragonfly's preheat arguments, normalised, defaults filled in. */
export interface PreheatJobArgs {
  type: 'image' | 'file';
  url: string;
  urls: string[];
  piece_length: number | null;
  tag: string;
  application: string;
  filtered_query_params: string;
  /** Header names only: values (Harbor's pull token) are sealed apart and never echoed. */
  headers: Record<string, string>;
  platform: string;
  scope: PreheatScope;
  ips: string[];
  count: number | null;
  percentage: number | null;
  concurrent_task_count: number;
  concurrent_peer_count: number;
  timeout: number;
}

/** A `gc` job's `args`, as Dragonfly's GC recorder writes them (ttl in nanoseconds). */
export interface GcJobArgs {
  type: 'job' | 'audit';
  ttl: number;
  batch_size: number;
}

/** A `gc` job's `result`: rows removed, and why it stopped when it failed. */
export interface GcResult {
  purged: number;
  error?: string;
}

/** Dragonfly's job types the gateway runs; the row's `type` says which `args` and `result` it holds. */
export type JobType = 'preheat' | 'gc';

/** A job's `args` column. */
export type JobArgs = PreheatJobArgs | GcJobArgs;

/** A job's `result` column. */
export type JobResult = GroupJobState | GcResult;

@Entity('job')
@Index('idx_job_image_key', ['imageKey', 'state'])
export class JobEntity extends BaseModel {
  /** Dragonfly's machinery group id, `group_<uuid>` (a gc job: a bare uuid, as Dragonfly's). */
  @Column({ name: 'task_id', type: 'varchar', length: 256 })
  taskId: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  bio: string;

  @Column({ type: 'varchar', length: 256 })
  type: JobType;

  @Column({ type: 'varchar', length: 256, default: 'PENDING' })
  state: JobState;

  /** Normalised args with defaults filled in; secrets are never kept here. */
  @Column({ type: 'longtext', transformer: jsonText<JobArgs>() })
  args: JobArgs;

  @Column({ name: 'task_result', type: 'longtext', nullable: true, transformer: jsonText<JobResult>() })
  result: JobResult | null;

  @Column({ name: 'user_id', type: 'bigint', unsigned: true, default: 0, transformer: bigintNumber })
  userId: number;

  @Column({ type: 'varchar', length: 32 })
  dialect: JobDialect;

  /** sha256 of (manifest URL, platforms, scope, clusters): finds an earlier identical preheat. */
  @Column({ name: 'image_key', type: 'char', length: 64 })
  imageKey: string;

  /** Held while PENDING: sha256 of (caller, image key). A retried create joins the live job holding it. */
  @Index('uk_job_active_key', { unique: true })
  @Column({ name: 'active_key', type: 'char', length: 64, nullable: true })
  activeKey: string | null;

  /** AES-GCM sealed request headers (Harbor's pull token, registry credentials). */
  @Column({ name: 'sealed_headers', type: 'text', nullable: true })
  sealedHeaders: string | null;

  @Column({ name: 'scheduler_cluster_ids', type: 'longtext', transformer: jsonText<number[]>() })
  schedulerClusterIds: number[];

  @Column({ name: 'finished_at', type: 'datetime', precision: 3, nullable: true })
  finishedAt: Date | null;
}

/** A preheat job row, its args and result narrowed. */
export type PreheatJobEntity = JobEntity & { type: 'preheat'; args: PreheatJobArgs; result: GroupJobState | null };

export function isPreheatJob(job: JobEntity): job is PreheatJobEntity {
  return job.type === 'preheat';
}
