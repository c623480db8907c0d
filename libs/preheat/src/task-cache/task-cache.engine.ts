import { UserFacingError, describeError, mapLimit } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import {
  DeleteTaskClusterResult,
  GetTaskClusterResult,
  GetTaskJobArgs,
  JobResult,
  JobStateEntry,
  TaskCacheJobEntity,
  UnaskedHost,
} from '@accel/db';
import {
  ClusterInventory,
  ClusterView,
  DragonflyClients,
  HostDirectory,
  KnownHost,
  TimestampMessage as TimestampLike,
} from '@accel/dragonfly';
import { Injectable, Logger } from '@nestjs/common';
import { JobRepository } from '../job.repository';
import { groupState, stateEntry } from '../result';
import { SeedDownloadDispatcher } from '../seed-download.dispatcher';
import { taskIdOf } from './task-cache-args';

const iso = (t: TimestampLike | null | undefined): string =>
  t ? new Date(t.seconds * 1000 + Math.floor(t.nanos / 1e6)).toISOString() : new Date(0).toISOString();

/**
 * Runs get_task (which hosts hold a task: StatLocalTask on every host of each cluster) and
 * delete_task (DeleteTask on every host that holds it), one job_states entry per cluster.
 */
@Injectable()
export class TaskCacheEngine {
  private readonly log = new Logger(TaskCacheEngine.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly inventory: ClusterInventory,
    private readonly directory: HostDirectory,
    private readonly clients: DragonflyClients,
    private readonly jobs: JobRepository,
    private readonly downloads: SeedDownloadDispatcher,
  ) {}

  async run(job: TaskCacheJobEntity): Promise<void> {
    const taskId = taskIdOf(job.args);
    const deadline = job.createdAt.getTime() + job.args.timeout / 1e6;
    const limit = (job.args as Partial<GetTaskJobArgs>).concurrent_peer_count ?? 500;
    let result: JobResult & { state: string };
    try {
      const clusters = await this.inventory.clusters(job.schedulerClusterIds);
      if (clusters.length === 0)
        throw new UserFacingError('no scheduler cluster is configured (preheat.clusters or the admin API)');
      const each = <R>(run: (c: ClusterView, i: number) => Promise<JobStateEntry<R>>) =>
        Promise.all(clusters.map(run)).then((entries) => groupState(job, entries, true));
      result =
        job.type === 'get_task'
          ? await each((c, i) => this.getTask(job, c, taskId, limit, deadline, i))
          : await each((c, i) => this.deleteTask(job, c, taskId, deadline, i));
    } catch (e) {
      result = groupState(job, [stateEntry(job, 'FAILURE', describeError(e), [])], true);
    }
    await this.jobs.finish(job.id, result.state as 'SUCCESS' | 'FAILURE', result);
    this.log.log(`job ${job.id} (${job.type} ${taskId}) ${result.state}`);
  }

  private callTimeout(deadline: number): number {
    return Math.max(1, Math.min(deadline - Date.now(), this.config.preheat.peerConnectTimeoutMs));
  }

  /** What every host of the cluster holds of the task; hosts that cannot be asked are named, not hidden. */
  private async holders(cluster: ClusterView, taskId: string, limit: number, deadline: number) {
    const listing = await this.directory.all(cluster);
    const asked = await mapLimit(listing.hosts, limit, async (host) => {
      try {
        return { host, local: await this.clients.statLocalTask(host, taskId, this.callTimeout(deadline)) };
      } catch (e) {
        return { host, error: describeError(e) };
      }
    });
    return { listing, asked };
  }

  private async getTask(
    job: TaskCacheJobEntity,
    cluster: ClusterView,
    taskId: string,
    limit: number,
    deadline: number,
    index: number,
  ): Promise<JobStateEntry<GetTaskClusterResult>> {
    const { listing, asked } = await this.holders(cluster, taskId, limit, deadline);
    const peers = asked
      .filter((a) => a.local)
      .map(({ host, local }) => ({
        id: host.id,
        hostname: host.hostname,
        ip: host.ip,
        host_type: host.type,
        created_at: iso(local!.created_at),
        updated_at: iso(local!.updated_at),
        IsFinished: local!.finished_at != null,
      }));
    const failed = asked.filter((a) => a.error).map((a) => unasked(a.host, a.error!));
    const result = { peers, scheduler_cluster_id: cluster.id, failed_hosts: failed };
    // Seed peers alone cannot say whether other peers hold it: an unlisted cluster is a failure.
    return stateEntry(job, listing.error ? 'FAILURE' : 'SUCCESS', listing.error ?? '', [result], index);
  }

  private async deleteTask(
    job: TaskCacheJobEntity,
    cluster: ClusterView,
    taskId: string,
    deadline: number,
    index: number,
  ): Promise<JobStateEntry<DeleteTaskClusterResult>> {
    const { listing, asked } = await this.holders(cluster, taskId, 500, deadline);
    const result: DeleteTaskClusterResult = { success_tasks: [], failure_tasks: [], scheduler_cluster_id: cluster.id };
    await mapLimit(asked, 500, async (a) => {
      if (a.error) return void result.failure_tasks.push(unasked(a.host, a.error));
      if (!a.local) return;
      try {
        await this.clients.deleteTask(a.host, taskId, this.callTimeout(deadline));
        await this.downloads.forget(taskId, a.host);
        result.success_tasks.push({ hostname: a.host.hostname, ip: a.host.ip, host_type: a.host.type });
      } catch (e) {
        result.failure_tasks.push(unasked(a.host, `task ${taskId} failed: ${describeError(e)}`));
      }
    });
    return stateEntry(job, listing.error ? 'FAILURE' : 'SUCCESS', listing.error ?? '', [result], index);
  }
}

const unasked = (host: KnownHost, description: string): UnaskedHost => ({
  hostname: host.hostname,
  ip: host.ip,
  host_type: host.type,
  description,
});
