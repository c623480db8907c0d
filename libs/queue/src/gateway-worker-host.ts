import { withRequestId } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job } from 'bullmq';

/**
 * A queue processor with its concurrency from the configuration and a bounded drain at
 * shutdown: it stops taking jobs, lets running ones finish for `server.shutdownGraceSeconds` (a seed peer's download
 * in flight is not thrown away by a rolling restart), then hands whatever still runs back to
 * the queue at once — the next worker starts it without waiting for BullMQ's stall check, and
 * its row stays unfinished in MySQL meanwhile.
 */
export abstract class GatewayWorkerHost extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly concurrency: number;
  private readonly workerLog = new Logger(this.constructor.name);
  private readonly running = new Map<string, { job: Job; handedBack: AbortController }>();

  constructor(protected readonly config: GatewayConfig) {
    super();
  }

  /** How long shutdown waits for running jobs (ms). */
  private get drainMs(): number {
    return this.config.server.shutdownGraceSeconds * 1000;
  }

  /**
   * The job's work; the host keeps track of what runs, for the drain. `handedBack` is aborted
   * when shutdown returns the job to the queue: the work must then record no outcome (what fails
   * now fails because the process is stopping; the next worker runs the job again).
   */
  protected abstract handle(job: Job, token: string | undefined, handedBack: AbortSignal): Promise<unknown>;

  async process(job: Job, token?: string): Promise<unknown> {
    const handedBack = new AbortController();
    this.running.set(job.id!, { job, handedBack });
    // The job's lines carry the id of the request that queued it (or the queue entry's own).
    const requestId = (job.data as { requestId?: unknown } | undefined)?.requestId;
    try {
      return await withRequestId(typeof requestId === 'string' ? requestId : `${job.queueName}:${job.id}`, () =>
        this.handle(job, token, handedBack.signal),
      );
    } finally {
      this.running.delete(job.id!);
    }
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.concurrency;
    // Without a listener BullMQ prints whole stacks; a lost lock after a Redis restart is expected
    // (the row is still PENDING and the job runs again), so one line is enough.
    this.worker.on('error', (e) => this.workerLog.warn(`queue worker: ${e.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    let worker;
    try {
      worker = this.worker;
    } catch {
      return; // never started
    }
    if (this.running.size > 0 && this.drainMs > 0) {
      this.workerLog.log(`draining ${this.running.size} running job(s) for up to ${this.drainMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        worker.pause(false).catch(() => undefined),
        new Promise((r) => (timer = setTimeout(r, this.drainMs))),
      ]);
      clearTimeout(timer);
    }
    // Paused, so nothing new is fetched; handed back while the worker's connection is still open.
    await worker.pause(true).catch(() => undefined);
    const left = [...this.running.values()];
    if (left.length) this.workerLog.warn(`${left.length} job(s) still running at shutdown go back to the queue`);
    for (const { handedBack } of left) handedBack.abort();
    await Promise.all(
      left.map(({ job }) =>
        job.token
          ? job
              .moveToWait(job.token)
              .catch((e: Error) => this.workerLog.warn(`could not hand job ${job.id} back: ${e.message}`))
          : undefined,
      ),
    );
    await worker.close(true).catch(() => undefined);
  }
}
