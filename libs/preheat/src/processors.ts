import { SecretBox } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { DownloadMessage, DragonflyClients, PRIORITIES, durationFromMs } from '@accel/dragonfly';
import {
  GatewayWorkerHost,
  PreheatQueuePayload,
  QueueName,
  SeedDownloadPayload,
  SeedDownloadResult,
} from '@accel/queue';
import { Processor } from '@nestjs/bullmq';
import { DelayedError, Job } from 'bullmq';

import { JobRunner } from './job-runner';
import { SeedDownloadDispatcher } from './seed-download.dispatcher';

/** How soon a job turned away by a busy registry asks again. */
const REGISTRY_BUSY_RETRY_MS = 500;

@Processor(QueueName.Preheat)
export class PreheatProcessor extends GatewayWorkerHost {
  protected get concurrency(): number {
    return this.config.preheat.jobConcurrency;
  }

  constructor(
    config: GatewayConfig,
    private readonly runner: JobRunner,
  ) {
    super(config);
  }

  async handle(job: Job<PreheatQueuePayload>, token: string | undefined, handedBack: AbortSignal): Promise<void> {
    if ((await this.runner.run(job.data.jobId, handedBack)) === 'registry-busy') {
      // Off the worker slot until then: jobs of other registries run meanwhile.
      await job.moveToDelayed(Date.now() + REGISTRY_BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
  }
}

/** One DownloadTask call on one seed peer or peer, followed to the end of its stream. */
@Processor(QueueName.SeedDownload)
export class SeedDownloadProcessor extends GatewayWorkerHost {
  protected get concurrency(): number {
    return this.config.preheat.downloadConcurrency;
  }

  constructor(
    config: GatewayConfig,
    private readonly clients: DragonflyClients,
    private readonly secrets: SecretBox,
    private readonly dispatcher: SeedDownloadDispatcher,
  ) {
    super(config);
  }

  async handle(job: Job<SeedDownloadPayload>): Promise<SeedDownloadResult> {
    const { download, target } = job.data;
    const message: DownloadMessage = {
      url: download.url,
      type: 'STANDARD',
      tag: download.tag,
      application: download.application,
      priority: PRIORITIES[download.priority] ?? 'LEVEL0',
      filtered_query_params: download.filteredQueryParams,
      request_header: this.secrets.open<Record<string, string>>(download.sealedHeaders),
      piece_length: download.pieceLength,
      timeout: durationFromMs(download.timeoutMs),
    };
    const { peerConnectTimeoutMs: connectMs, peerIdleTimeoutMs: idleMs } = this.config.preheat;
    const outcome = await this.clients.downloadTask(target, message, {
      deadlineMs: download.timeoutMs,
      connectMs,
      idleMs,
    });
    const result: SeedDownloadResult = {
      taskId: outcome.taskId,
      hostId: outcome.hostId,
      contentLength: outcome.contentLength,
      pieces: outcome.pieces,
      cached: outcome.cached,
    };
    if (job.id) this.dispatcher.completed(job.id, result);
    return result;
  }
}
