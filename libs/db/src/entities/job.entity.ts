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

export interface JobStateEntry<R = PreheatClusterResult> {
  task_uuid: string;
  task_name: string;
  state: JobState;
  error: string;
  created_at: string;
  ttl: number;
  results: R[];
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
export interface GroupJobState<R = PreheatClusterResult> {
  group_uuid: string;
  state: JobState;
  created_at: string;
  updated_at: string;
  job_states: JobStateEntry<R>[];
  progress?: PreheatProgress;
  /** The manifest preheated (pinned at creation), and what the tag names now when it moved meanwhile. */
  manifest_digest?: string;
  tag_moved_to?: string;
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

/** `get_task` args as Dragonfly stores them: the task named by id, by URL recipe, or by content. */
export interface GetTaskJobArgs {
  task_id: string;
  url: string;
  piece_length: number | null;
  tag: string;
  application: string;
  filtered_query_params: string;
  content_for_calculating_task_id: string | null;
  concurrent_peer_count: number;
  timeout: number;
}

/** `delete_task` args (Dragonfly's DeleteTaskArgs has no peer concurrency). */
export type DeleteTaskJobArgs = Omit<GetTaskJobArgs, 'concurrent_peer_count'>;

/** A host holding the task, as Dragonfly's get_task reports it (the odd `IsFinished` key included). */
export interface TaskHolder {
  id: string;
  hostname: string;
  ip: string;
  host_type: string;
  created_at: string;
  updated_at: string;
  IsFinished: boolean;
}

/** A host the gateway could not ask (not in Dragonfly's shape: there a silent omission). */
export interface UnaskedHost {
  hostname: string;
  ip: string;
  host_type: string;
  description: string;
}

export interface GetTaskClusterResult {
  peers: TaskHolder[];
  scheduler_cluster_id: number;
  failed_hosts: UnaskedHost[];
}

export interface DeleteTaskClusterResult {
  success_tasks: { hostname: string; ip: string; host_type: string }[];
  failure_tasks: UnaskedHost[];
  scheduler_cluster_id: number;
}

/** Dragonfly's job types the gateway runs; the row's `type` says which `args` and `result` it holds. */
export type JobType = 'preheat' | 'get_task' | 'delete_task' | 'gc';

/** A job's `args` column. */
export type JobArgs = PreheatJobArgs | GetTaskJobArgs | DeleteTaskJobArgs | GcJobArgs;

/** A job's `result` column. */
export type JobResult =
  GroupJobState | GroupJobState<GetTaskClusterResult> | GroupJobState<DeleteTaskClusterResult> | GcResult;

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

  /** The manifest digest an image preheat's tag named when the job was created: what it preheats. */
  @Column({ name: 'manifest_digest', type: 'varchar', length: 128, nullable: true })
  manifestDigest: string | null;
}

/** A preheat job row, its args and result narrowed. */
export type PreheatJobEntity = JobEntity & { type: 'preheat'; args: PreheatJobArgs; result: GroupJobState | null };

export function isPreheatJob(job: JobEntity): job is PreheatJobEntity {
  return job.type === 'preheat';
}

/** A get_task or delete_task row: the task cache jobs. */
export type TaskCacheJobEntity = JobEntity & {
  type: 'get_task' | 'delete_task';
  args: GetTaskJobArgs | DeleteTaskJobArgs;
};

export function isTaskCacheJob(job: JobEntity): job is TaskCacheJobEntity {
  return job.type === 'get_task' || job.type === 'delete_task';
}
