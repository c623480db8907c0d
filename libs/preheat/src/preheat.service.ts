import { GatewayMetrics, SecretBox, UserFacingError, currentRequestId } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { JobDialect, JobEntity, isPreheatJob } from '@accel/db';
import { ClusterInventory } from '@accel/dragonfly';
import { PreheatQueuePayload, QueueName, enqueueSavedRow, preheatQueueJobId, queueEntryOptions } from '@accel/queue';
import { ImageResolver, RegistryAccess, parseManifestUrl, parsePlatform } from '@accel/registry';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createHash, randomUUID } from 'node:crypto';
import { DuplicateLiveJob, JobQuery, JobRepository } from './job.repository';
import { MAX_TIMEOUT_NS, PreheatArgs, PreheatRequest, buildArgs, requestFromDragonflyArgs } from './preheat-args';
import { groupState, stateEntry } from './result';

/** How long a job creation waits for the registry to name the tag's digest. */
const PIN_TIMEOUT_MS = 3000;

/** Creates, reads and removes preheat jobs. The row is written first, then queued: a lost queue entry is re-queued by the reconciler. */
@Injectable()
export class PreheatService {
  private readonly log = new Logger(PreheatService.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly access: RegistryAccess,
    private readonly inventory: ClusterInventory,
    private readonly secrets: SecretBox,
    private readonly jobs: JobRepository,
    private readonly resolver: ImageResolver,
    @InjectQueue(QueueName.Preheat) private readonly queue: Queue<PreheatQueuePayload>,
    metrics: GatewayMetrics,
  ) {
    metrics.watchQueue(QueueName.Preheat, () => this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'));
  }

  /** Checks what can be checked without the registry; throws UserFacingError for the caller. */
  validate(req: PreheatRequest): PreheatArgs {
    const args = buildArgs(req);
    if (!Number.isSafeInteger(args.timeout) || args.timeout < 0 || args.timeout > MAX_TIMEOUT_NS) {
      throw new UserFacingError(
        `invalid params: timeout must be at most ${MAX_TIMEOUT_NS} nanoseconds (about 24.8 days)`,
      );
    }
    if (args.type === 'image') {
      if (!args.url) throw new UserFacingError('invalid params: url is required');
      parseManifestUrl(args.url);
      this.access.assertAllowed(args.url);
      if (args.platform && args.platform.toLowerCase() !== 'all') parsePlatform(args.platform);
    } else {
      const urls = [args.url, ...args.urls].filter(Boolean);
      if (urls.length === 0) throw new UserFacingError('invalid params: url or urls is required');
      urls.forEach((u) => this.access.assertAllowed(u));
    }
    return args;
  }

  /** What makes two preheats the same: what is fetched (the digest, when the caller names it), where, and how. */
  imageKey(args: PreheatArgs, clusterIds: number[], digest = ''): string {
    const platforms = args.platform || this.config.preheat.defaultPlatforms.join(',');
    const identity = [
      args.type,
      args.url,
      args.urls,
      platforms,
      args.scope,
      args.ips,
      args.count,
      args.percentage,
      args.tag,
      args.application,
      [...clusterIds].sort(),
      digest,
    ];
    return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  }

  async create(req: PreheatRequest, dialect: JobDialect, userId: number): Promise<JobEntity> {
    const args = this.validate(req);
    const clusterIds = [...new Set(req.schedulerClusterIds ?? [])];
    if (clusterIds.length) await this.inventory.clusters(clusterIds);
    // Headers carry Harbor's pull token: sealed apart from the echoed args, dropped when the job ends.
    const headers = req.headers ?? {};
    const pinned = args.type === 'image' ? await this.pin(args.url, headers) : undefined;
    // The digest the caller claims (Harbor's v1 body) is what its dedupe lookup used; else the one pinned.
    const imageKey = this.imageKey(args, clusterIds, req.digest || pinned);
    const activeKey = createHash('sha256').update(`${userId}|${imageKey}`).digest('hex');
    // No lookup first: the live key is unique, so an identical create's INSERT is refused and
    // joins the live job, and a new one (the usual case) costs one statement less.
    let job: JobEntity;
    try {
      job = await this.jobs.insert({
        taskId: `group_${randomUUID()}`,
        bio: req.bio ?? '',
        type: 'preheat',
        state: 'PENDING',
        args,
        result: null,
        userId,
        dialect,
        imageKey,
        activeKey,
        sealedHeaders: Object.keys(headers).length ? this.secrets.seal(headers) : null,
        schedulerClusterIds: clusterIds,
        finishedAt: null,
        manifestDigest: pinned ?? null,
      });
    } catch (e) {
      // Two identical creates at once (a client retrying one whose answer was lost): one row wins.
      if (!(e instanceof DuplicateLiveJob)) throw e;
      return this.joined(e.live);
    }
    await this.enqueue(job.id);
    return job;
  }

  /**
   * The digest the manifest URL names now, so the job preheats what was asked for even if the
   * tag moves before it runs. A registry that does not answer in time leaves the job unpinned:
   * it resolves the tag when it runs, and reports the registry's fault then.
   */
  private async pin(url: string, headers: Record<string, string>): Promise<string | undefined> {
    const loc = parseManifestUrl(url);
    if (/^sha256:[a-f0-9]{64}$/.test(loc.reference)) return loc.reference;
    const authorization = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), PIN_TIMEOUT_MS)));
    try {
      return await Promise.race([this.resolver.currentDigest(loc, { authorization }).catch(() => undefined), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private joined(live: JobEntity): JobEntity {
    this.log.log(`identical create joins live job ${live.id}`);
    return live;
  }

  /** Queues a job row; a Redis failure is logged, not thrown: the row is durable and the reconciler retries. */
  async enqueue(id: number): Promise<void> {
    await enqueueSavedRow(
      this.queue,
      this.config.redis.enqueueTimeoutMs,
      this.log,
      `job ${id}`,
      'preheat',
      { jobId: id, requestId: currentRequestId() },
      queueEntryOptions.preheat(id),
    );
  }

  /** An identical preheat that succeeded within the dedupe window, if any. */
  async recentSuccess(key: string): Promise<JobEntity | null> {
    const window = this.config.preheat.dedupeWindowSeconds;
    if (window <= 0) return null;
    return this.jobs.succeededSince(key, new Date(Date.now() - window * 1000));
  }

  get(id: number): Promise<JobEntity | null> {
    return this.jobs.byId(id);
  }

  list(q: JobQuery): Promise<[JobEntity[], number]> {
    return this.jobs.page(q);
  }

  /** Ends a PENDING job as FAILURE (downloads already handed to seed peers finish on their own). */
  async cancel(id: number, by: string): Promise<JobEntity | null> {
    const job = await this.get(id);
    if (!job) return null;
    if (job.state !== 'PENDING') return job;
    const entry = stateEntry(job, 'FAILURE', `cancelled by ${by}`, []);
    const result = groupState(job, [entry], true);
    await this.jobs.finish(id, 'FAILURE', result);
    await this.queue.remove(preheatQueueJobId(id)).catch(() => 0);
    return this.get(id);
  }

  /** A new job with the same arguments; the original caller's headers are not kept (gateway credentials apply). */
  async retry(id: number, userId: number): Promise<JobEntity | null> {
    const job = await this.get(id);
    if (!job || !isPreheatJob(job)) return null;
    const a = job.args;
    // Stored args echo header names only (values are sealed and dropped): gateway credentials apply.
    return this.create(
      requestFromDragonflyArgs(
        { ...a, headers: undefined },
        { schedulerClusterIds: job.schedulerClusterIds, bio: `retry of job ${id}` },
      ),
      job.dialect,
      userId,
    );
  }

  /** Hard delete, as Dragonfly does; queued work that is not running yet is dropped too. */
  async remove(id: number): Promise<boolean> {
    if (!(await this.jobs.remove(id))) return false;
    await this.queue.remove(preheatQueueJobId(id)).catch(() => 0);
    return true;
  }
}
