import { GatewayMetrics } from '@accel/common';
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
import { JobsOptions, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

/** setTimeout fires at once for delays of 2^31 ms and more. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Downloads handed to the queue in one go. A job asks for every (blob, host) pair at once (8
 * blobs × 500 peers by default): one at a time, each pair cost a lookup, an add and a check of
 * the queue, each its own write to Redis. Gathered, a batch costs one pipelined lookup and one
 * add of the new entries. Batches go one at a time and bounded, so that no turn of the event
 * loop handles more than one batch's replies (all at once, 200 hosts' adds took 200-600 ms).
 */
const BATCH = 64;

interface Waiter {
  resolve(result: SeedDownloadResult): void;
  reject(error: Error): void;
}

interface Request {
  payload: SeedDownloadPayload;
  options: JobsOptions & { jobId: string };
  waiter: Waiter;
}

/**
 * Hands (task, host) downloads to the seed-download queue and waits for their outcome. A
 * download already queued or finished within the share window is joined, not made again.
 */
@Injectable()
export class SeedDownloadDispatcher implements OnApplicationShutdown {
  private readonly events: QueueEvents;
  /** Who waits for each queue entry: the queue's events settle them. */
  private readonly waiting = new Map<string, Waiter[]>();
  private batch: Request[] = [];
  private flushing?: NodeJS.Immediate;
  private enqueuing = false;
  private closed = false;

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
    this.events.on('completed', ({ jobId, returnvalue }) =>
      this.completed(jobId, returnvalue as unknown as SeedDownloadResult),
    );
    this.events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, (w) => w.reject(new Error(failedReason))));
  }

  async run(payload: SeedDownloadPayload, waitMs: number): Promise<SeedDownloadResult> {
    // Listening before anything is added: no outcome can come before it is waited for.
    await this.events.waitUntilReady();
    if (this.closed) throw new Error('the gateway is shutting down');
    const options = queueEntryOptions.seedDownload(
      payload.taskId,
      payload.target,
      this.config.preheat.downloadShareSeconds,
    ) as JobsOptions & { jobId: string };
    let waiter!: Waiter;
    const outcome = new Promise<SeedDownloadResult>((resolve, reject) => (waiter = { resolve, reject }));
    this.wait(options.jobId, waiter);
    this.batch.push({ payload, options, waiter });
    this.flushing ??= setImmediate(() => this.flushNow());
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
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
      this.unwait(options.jobId, waiter);
    }
  }

  /** Hands the next batch to the queue; one batch at a time, so that their replies come turn by turn. */
  private flushNow(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.enqueuing || this.batch.length === 0) return;
    const batch = this.batch.splice(0, BATCH);
    this.enqueuing = true;
    this.enqueue(batch)
      .catch((e: Error) => {
        for (const r of batch) this.fail(r.options.jobId, r.waiter, e);
      })
      .finally(() => {
        this.enqueuing = false;
        if (this.batch.length) this.flushing ??= setImmediate(() => this.flushNow());
      });
  }

  /**
   * One lookup of every entry the batch names, then one add of those not there. BullMQ prunes
   * completed entries by age only when another one completes, so after an idle spell a finished
   * download would be shared long after the window (and after the peer lost its cache): an entry
   * finished before the window is removed and made again.
   */
  private async enqueue(batch: Request[]): Promise<void> {
    const ids = [...new Set(batch.map((r) => r.options.jobId))];
    const client = await this.queue.client;
    const lookup = (client as unknown as Redis).pipeline();
    for (const id of ids) lookup.hmget(this.queue.toKey(id), 'timestamp', 'finishedOn', 'returnvalue');
    const found = (await lookup.exec()) ?? [];
    const fresh = new Map<string, SeedDownloadResult>();
    const absent = new Set<string>();
    const shareMs = this.config.preheat.downloadShareSeconds * 1000;
    await Promise.all(
      ids.map(async (id, i) => {
        const [error, fields] = found[i] ?? [new Error('no reply')];
        if (error) throw error;
        const [added, finishedOn, returnvalue] = fields as (string | null)[];
        if (added === null) return void absent.add(id);
        if (finishedOn === null) return; // queued or running: its outcome will come
        if (Date.now() - Number(finishedOn) < shareMs && returnvalue !== null) {
          fresh.set(id, JSON.parse(returnvalue) as SeedDownloadResult);
          return;
        }
        // Another caller may remove it at the same moment; either way it is gone.
        await this.queue.remove(id).catch(() => undefined);
        absent.add(id);
      }),
    );
    const adds: Request[] = [];
    for (const r of batch) {
      const id = r.options.jobId;
      const made = absent.delete(id);
      this.metrics.originReads.inc({ kind: made ? 'made' : 'shared' });
      if (made) adds.push(r);
    }
    if (adds.length)
      await this.queue.addBulk(adds.map((r) => ({ name: 'download', data: r.payload, opts: r.options })));
    for (const [id, result] of fresh) this.completed(id, result);
  }

  private wait(id: string, waiter: Waiter): void {
    const list = this.waiting.get(id);
    if (list) list.push(waiter);
    else this.waiting.set(id, [waiter]);
  }

  private unwait(id: string, waiter: Waiter): void {
    const list = this.waiting.get(id);
    if (!list) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length) this.waiting.set(id, rest);
    else this.waiting.delete(id);
  }

  private settle(id: string, how: (w: Waiter) => void): void {
    const list = this.waiting.get(id);
    if (!list) return;
    this.waiting.delete(id);
    for (const w of list) how(w);
  }

  private fail(id: string, waiter: Waiter, error: Error): void {
    this.unwait(id, waiter);
    waiter.reject(error);
  }

  /**
   * A download has finished: every waiter here hears it, from whichever source tells first — the
   * queue's event, a share-window hit, or this process's processor the moment its call ends (the
   * event's round trip through Redis took, on a busy worker, 13 ms at the median and 57 ms at
   * p90, and a job waits for its slowest download). Waiters elsewhere, and later joiners, still
   * hear it from the queue.
   */
  completed(id: string, result: SeedDownloadResult): void {
    this.settle(id, (w) => w.resolve(result));
  }

  /** A task evicted from a host: a download of it finished there is no longer shared (the next preheat fetches again). */
  async forget(taskId: string, target: { ip: string; port: number }): Promise<void> {
    const existing = await this.queue.getJob(seedDownloadJobId(taskId, target));
    if (existing?.finishedOn) await existing.remove().catch(() => undefined);
  }

  /** After the processors have drained: a preheat job finishing in the grace period still hears its downloads. */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.events.close();
    for (const [id, list] of [...this.waiting]) {
      this.waiting.delete(id);
      for (const w of list) w.reject(new Error('the gateway is shutting down'));
    }
  }
}
