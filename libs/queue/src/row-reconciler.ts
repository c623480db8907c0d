import { GatewayConfig } from '@accel/config';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';

export interface PendingRow {
  /** Primary key of the row. */
  id: number;
  /** The queue job id the row's work runs under. */
  queueJobId: string;
}

/**
 * Re-queues rows that MySQL says are unfinished but that have no live queue entry (Redis lost
 * its data, or a process died between writing the row and queueing it). Runs at start and
 * every `preheat.reconcileIntervalSeconds`; rows younger than `preheat.reconcileGraceSeconds`
 * are left alone.
 */
export abstract class RowQueueReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  protected readonly log = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;

  protected abstract readonly queue: Queue;
  private readonly intervalSeconds: number;
  private readonly graceSeconds: number;

  constructor(config: GatewayConfig) {
    this.intervalSeconds = config.preheat.reconcileIntervalSeconds;
    this.graceSeconds = config.preheat.reconcileGraceSeconds;
  }
  protected abstract pending(olderThan: Date): Promise<PendingRow[]>;
  protected abstract enqueue(id: number): Promise<void>;

  onApplicationBootstrap(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private running = false;

  async reconcile(): Promise<number> {
    // While Redis is down a pass waits for it; the next timer ticks must not pile up behind it.
    if (this.running) return 0;
    this.running = true;
    let requeued = 0;
    try {
      for (const row of await this.pending(new Date(Date.now() - this.graceSeconds * 1000))) {
        const queued = await this.queue.getJob(row.queueJobId);
        const state = queued ? await queued.getState() : 'missing';
        if (state === 'missing' || state === 'completed' || state === 'failed' || state === 'unknown') {
          if (queued) await queued.remove().catch(() => undefined);
          await this.enqueue(row.id);
          requeued++;
        }
      }
      if (requeued) this.log.warn(`re-queued ${requeued} unfinished row(s) that had no queue entry`);
    } catch (e) {
      this.log.warn(`reconcile failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
    return requeued;
  }
}
