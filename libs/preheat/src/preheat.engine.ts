import { GatewayMetrics, SecretBox, currentRequestId, describeError, mapLimit, UserFacingError } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import {
  GroupJobState,
  JobEntity,
  JobStateEntry,
  SkippedCluster,
  PreheatFailureOutcome,
  PreheatProgress,
  PreheatTaskOutcome,
  PreheatJobEntity,
} from '@accel/db';
import { ClusterInventory, ClusterView, computeTaskId, splitFilteredQueryParams } from '@accel/dragonfly';
import { ImageResolver, parseManifestUrl, platformSelection } from '@accel/registry';
import { Injectable, Logger } from '@nestjs/common';
import { JobRepository } from './job.repository';
import { PreheatArgs } from './preheat-args';
import { groupState, stateEntry, summarizeFailures } from './result';
import { RegistrySlots } from './registry-slots';
import { SeedDownloadDispatcher } from './seed-download.dispatcher';
import { ClusterCannotServe, TargetPlan, TargetPlanner } from './target-planner';

interface BlobSet {
  urls: string[];
  headers: Record<string, string>;
  /** The manifest read, and what its tag names now when that differs. */
  manifestDigest?: string;
  tagMovedTo?: string;
}

interface ClusterOutcome {
  cluster: ClusterView;
  entry: JobStateEntry;
  /** Planning found nothing in the cluster to preheat into. */
  cannotServe: boolean;
}

/**
 * Which clusters count. Clusters the caller named all count. With none named (every cluster),
 * one that cannot serve — no seed peers, none healthy — is reported as skipped and does not fail
 * the job, as Dragonfly's manager leaves clusters without candidates out; at least one cluster
 * must have served.
 */
export function countedClusters(
  job: Pick<JobEntity, 'schedulerClusterIds'>,
  outcomes: ClusterOutcome[],
): { entries: JobStateEntry[]; skipped: SkippedCluster[] } {
  if (job.schedulerClusterIds.length > 0 || outcomes.every((o) => o.cannotServe))
    return { entries: outcomes.map((o) => o.entry), skipped: [] };
  return {
    entries: outcomes.filter((o) => !o.cannotServe).map((o) => o.entry),
    skipped: outcomes
      .filter((o) => o.cannotServe)
      .map((o) => ({ scheduler_cluster_id: o.cluster.id, name: o.cluster.name, reason: o.entry.error })),
  };
}

const registryHostOf = (url: string): string | undefined => {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
};

const headerValue = (h: Record<string, string>, name: string): string | undefined =>
  Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];

/** Runs one preheat job: resolve the image, pick targets per cluster, drive every (blob, host) download, record the outcome. */
@Injectable()
export class PreheatEngine {
  private readonly log = new Logger(PreheatEngine.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly secrets: SecretBox,
    private readonly resolver: ImageResolver,
    private readonly inventory: ClusterInventory,
    private readonly planner: TargetPlanner,
    private readonly downloads: SeedDownloadDispatcher,
    private readonly registrySlots: RegistrySlots,
    private readonly jobs: JobRepository,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** `registry-busy`: the image's registry has every slot of this process; try again later, off a worker slot. */
  async run(job: PreheatJobEntity, handedBack?: AbortSignal): Promise<'done' | 'registry-busy'> {
    const args = job.args;
    const deadline = job.createdAt.getTime() + args.timeout / 1e6;
    const registry = args.type === 'image' ? registryHostOf(args.url) : undefined;
    const releaseRegistry = registry ? this.registrySlots.tryTake(registry) : () => undefined;
    if (!releaseRegistry && Date.now() < deadline) return 'registry-busy';
    try {
      await this.runHolding(
        job,
        args,
        deadline,
        releaseRegistry ?? (() => undefined),
        registry && !releaseRegistry ? registry : undefined,
        handedBack,
      );
    } finally {
      releaseRegistry?.();
    }
    return 'done';
  }

  private async runHolding(
    job: JobEntity,
    args: PreheatArgs,
    deadline: number,
    releaseRegistry: () => void,
    busyRegistry: string | undefined,
    handedBack: AbortSignal | undefined,
  ): Promise<void> {
    let entries: JobStateEntry[];
    let skipped: SkippedCluster[] = [];
    const progress: PreheatProgress = { total: 0, succeeded: 0, failed: 0, bytes: 0 };
    const report = this.progressReporter(job, progress);
    // The first progress write (a result, even empty) tells v1 pollers the job is RUNNING rather
    // than WAITING; a job done before it is due costs one write less.
    report.tick();
    let manifest: { manifest_digest?: string; tag_moved_to?: string } = {};
    try {
      if (Date.now() >= deadline) {
        const why = busyRegistry ? ` (every slot for registry ${busyRegistry} was taken by jobs still reading it)` : '';
        throw new UserFacingError(`the job timed out before a worker could start it${why}`);
      }
      const headers = job.sealedHeaders ? this.secrets.open<Record<string, string>>(job.sealedHeaders) : {};
      const blobs = await this.blobs(args, headers, job.manifestDigest);
      manifest = { manifest_digest: blobs.manifestDigest, tag_moved_to: blobs.tagMovedTo };
      // The registry is read; what follows waits on peers, not on it.
      releaseRegistry();
      const clusters = await this.inventory.clusters(job.schedulerClusterIds);
      if (clusters.length === 0)
        throw new UserFacingError('no scheduler cluster is configured (preheat.clusters or the admin API)');
      const outcomes = await Promise.all(
        clusters.map((c, i) => this.runCluster(job, c, blobs, args, deadline, i, progress, report)),
      );
      ({ entries, skipped } = countedClusters(job, outcomes));
    } catch (e) {
      entries = [stateEntry(job, 'FAILURE', describeError(e), [])];
    }
    report.stop();
    const result: GroupJobState = {
      ...groupState(job, entries, true),
      ...(manifest.manifest_digest ? { manifest_digest: manifest.manifest_digest } : {}),
      ...(manifest.tag_moved_to ? { tag_moved_to: manifest.tag_moved_to } : {}),
      progress,
      ...(skipped.length ? { skipped_scheduler_clusters: skipped } : {}),
    };
    // Handed back at shutdown, a failure says only that this process stopped: the next worker decides.
    if (handedBack?.aborted && result.state !== 'SUCCESS') {
      this.log.warn(`job ${job.id} was handed back at shutdown; its outcome is left to the next worker`);
      return;
    }
    // Only a job still PENDING takes the outcome: a cancelled one stays cancelled.
    await this.jobs.finish(job.id, result.state as 'SUCCESS' | 'FAILURE', result);
    this.metrics.preheatJobs.inc({ dialect: job.dialect, state: result.state });
    this.metrics.preheatDuration.observe({ state: result.state }, GatewayMetrics.since(job.createdAt.getTime()));
    const failures = entries.filter((e) => e.error).map((e) => e.error);
    this.log.log(`job ${job.id} ${result.state}${failures.length ? `: ${failures.join(' | ')}` : ''}`);
  }

  /** The blobs to preheat: of the digest pinned at creation when there is one, else of what the URL names now. */
  private async blobs(args: PreheatArgs, headers: Record<string, string>, pinned: string | null): Promise<BlobSet> {
    if (args.type === 'file') return { urls: [...new Set([args.url, ...args.urls].filter(Boolean))], headers };
    const loc = parseManifestUrl(args.url);
    const selection = platformSelection(args.platform ? [args.platform] : this.config.preheat.defaultPlatforms);
    const opts = { authorization: headerValue(headers, 'authorization') };
    const image = pinned
      ? await this.resolver.resolvePinned(loc, pinned, selection, opts)
      : await this.resolver.resolve(loc, selection, opts);
    const tagMovedTo = image.tagMovedTo;
    if (tagMovedTo) {
      this.log.warn(
        `${loc.repository}:${loc.reference} moved to ${tagMovedTo}; preheating ${pinned}, the digest it named at creation`,
      );
    }
    const forPeers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    if (image.authorization) forPeers.Authorization = image.authorization;
    return { urls: image.blobs.map((b) => b.url), headers: forPeers, manifestDigest: image.digest, tagMovedTo };
  }

  /** Writes progress into the running job's result at most twice a second (for `--watch`). */
  private progressReporter(job: JobEntity, progress: PreheatProgress) {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const flush = () => {
      timer = undefined;
      if (stopped) return;
      void this.jobs.recordProgress(job.id, { ...groupState(job, [], false), progress }).catch(() => undefined);
    };
    return {
      tick: () => {
        if (!timer && !stopped) timer = setTimeout(flush, 500);
      },
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  private async runCluster(
    job: JobEntity,
    cluster: ClusterView,
    blobs: BlobSet,
    args: PreheatArgs,
    deadline: number,
    index: number,
    progress: PreheatProgress,
    report: { tick(): void },
  ): Promise<ClusterOutcome> {
    const success: PreheatTaskOutcome[] = [];
    const failure: PreheatFailureOutcome[] = [];
    let plan: TargetPlan;
    try {
      plan = await this.planner.plan(cluster, args);
    } catch (e) {
      const entry = stateEntry(
        job,
        'FAILURE',
        describeError(e),
        [{ success_tasks: [], failure_tasks: [], scheduler_cluster_id: cluster.id }],
        index,
      );
      return { cluster, entry, cannotServe: e instanceof ClusterCannotServe };
    }
    try {
      const filtered = splitFilteredQueryParams(args.filtered_query_params);
      const sealedHeaders = this.secrets.seal(blobs.headers);
      let total = 0;
      await mapLimit(blobs.urls, args.concurrent_task_count, async (url) => {
        const taskId = computeTaskId({
          url,
          tag: args.tag,
          application: args.application,
          pieceLength: args.piece_length ?? undefined,
          filteredQueryParams: filtered,
        });
        const targets = plan.targetsFor(taskId);
        total += targets.length;
        progress.total += targets.length;
        report.tick();
        await mapLimit(targets, args.concurrent_peer_count, async (target) => {
          const remaining = deadline - Date.now();
          const started = Date.now();
          const peer = target.hostname;
          try {
            if (remaining <= 0) throw new Error(`the job timed out before ${target.hostname} was asked`);
            const done = await this.downloads.run(
              {
                taskId,
                target,
                requestId: currentRequestId(),
                download: {
                  url,
                  tag: args.tag || undefined,
                  application: args.application || undefined,
                  priority: 0,
                  filteredQueryParams: filtered,
                  sealedHeaders,
                  pieceLength: args.piece_length ?? undefined,
                  timeoutMs: remaining,
                },
              },
              remaining + 5_000,
            );
            success.push({ url, hostname: target.hostname, ip: target.ip });
            progress.succeeded++;
            progress.bytes += done.contentLength;
            this.metrics.downloads.inc({ peer, result: 'success' });
            this.metrics.downloadBytes.inc({ peer }, done.contentLength);
            this.metrics.downloadDuration.observe({ result: 'success' }, GatewayMetrics.since(started));
          } catch (e) {
            failure.push({ url, hostname: target.hostname, ip: target.ip, description: describeError(e) });
            progress.failed++;
            this.metrics.downloads.inc({ peer, result: 'failure' });
            this.metrics.downloadDuration.observe({ result: 'failure' }, GatewayMetrics.since(started));
          }
          report.tick();
        });
      });
      const result = { success_tasks: success, failure_tasks: failure, scheduler_cluster_id: cluster.id };
      return {
        cluster,
        entry: stateEntry(
          job,
          failure.length ? 'FAILURE' : 'SUCCESS',
          summarizeFailures(total, failure),
          [result],
          index,
        ),
        cannotServe: false,
      };
    } catch (e) {
      const result = { success_tasks: success, failure_tasks: failure, scheduler_cluster_id: cluster.id };
      return { cluster, entry: stateEntry(job, 'FAILURE', describeError(e), [result], index), cannotServe: false };
    }
  }
}
