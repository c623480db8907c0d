import { GatewayMetrics, Semaphore } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import {
  QueueName,
  SeedDownloadPayload,
  SeedDownloadResult,
  queueEntryOptions,
  redisConnection,
  seedDownloadJobId,
} from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';

/** setTimeout fires at once for delays of 2^31 ms and more. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Downloads being handed to the queue at once. A job asks for every (blob, host) pair at once
 * (8 blobs × 500 peers by default); ioredis resolves a whole batch of replies in one go, so
 * unbounded, each pair's queue add ran in the same turn of the event loop: 600 ms of it on a
 * 200-host fan-out. A few at a time, the adds follow Redis's replies instead.
 */
const ENQUEUING_AT_ONCE = 8;

/** Hands (task, host) downloads to the seed-download queue and waits for their outcome. */
@Injectable()
export class SeedDownloadDispatcher implements OnApplicationShutdown {
  private readonly events: QueueEvents;
  private readonly enqueuing = new Semaphore(ENQUEUING_AT_ONCE);

  constructor(
    private readonly config: GatewayConfig,
    @InjectQueue(QueueName.SeedDownload) private readonly queue: Queue<SeedDownloadPayload, SeedDownloadResult>,
    private readonly metrics: GatewayMetrics,
  ) {
    metrics.watchQueue(QueueName.SeedDownload, () => this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'));
    this.events = new QueueEvents(QueueName.SeedDownload, {
      connection: redisConnection(config),
      prefix: config.redis.prefix,
    });
    // Every waiting download adds a listener to both; hundreds at once are normal here.
    this.events.setMaxListeners(0);
    this.queue.setMaxListeners(0);
  }

  async run(payload: SeedDownloadPayload, waitMs: number): Promise<SeedDownloadResult> {
    await this.events.waitUntilReady();
    const options = queueEntryOptions.seedDownload(
      payload.taskId,
      payload.target,
      this.config.preheat.downloadShareSeconds,
    );
    const job = await this.enqueuing.use(async () => {
      const shared = await this.sharedDownload(options.jobId!);
      this.metrics.originReads.inc({ kind: shared ? 'shared' : 'made' });
      return this.queue.add('download', payload, options);
    });
    // Our own timer, unref'd: a wait abandoned at shutdown must not keep the process alive.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `peer ${payload.target.hostname} (${payload.target.ip}:${payload.target.port}) did not finish before the job timeout`,
            ),
          ),
        Math.min(waitMs, MAX_TIMER_MS),
      );
      timer.unref();
    });
    try {
      return (await Promise.race([job.waitUntilFinished(this.events), timeout])) as SeedDownloadResult;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * BullMQ prunes completed jobs by age only when another job completes, so after an idle spell
   * a finished download would be shared long after the window (and after the peer lost its
   * cache). A result older than the window is removed before it can be joined. True when the
   * download is joined (in flight, or finished within the window).
   */
  private async sharedDownload(jobId: string): Promise<boolean> {
    const existing = await this.queue.getJob(jobId);
    if (!existing) return false;
    if (!existing.finishedOn) return true;
    if (Date.now() - existing.finishedOn < this.config.preheat.downloadShareSeconds * 1000) return true;
    // Another caller may remove it at the same moment; either way it is gone.
    await existing.remove().catch(() => undefined);
    return false;
  }

  /** A task evicted from a host: a download of it finished there is no longer shared (the next preheat fetches again). */
  async forget(taskId: string, target: { ip: string; port: number }): Promise<void> {
    const existing = await this.queue.getJob(seedDownloadJobId(taskId, target));
    if (existing?.finishedOn) await existing.remove().catch(() => undefined);
  }

  /** After the processors have drained: a preheat job finishing in the grace period still hears its downloads. */
  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}
