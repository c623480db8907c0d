import { GatewayConfig } from '@accel/config';
import { ConversionTaskRepository } from '@accel/convert';
import { JobRepository } from '@accel/preheat';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AuditRecorder } from '../admin/audit/audit.recorder';

export interface PurgeResult {
  jobs: number;
  conversionTasks: number;
  audits: number;
}

const HOUR_MS = 3_600_000;

/**
 * Removes finished jobs, finished conversion tasks and audit rows past their `retention.*` TTL,
 * in small batches, every `retention.intervalMinutes` and when a `gc` job asks. Unfinished work
 * is never removed. Several managers may run it at once: deletes by id are idempotent.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(RetentionService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<PurgeResult>;

  constructor(
    private readonly config: GatewayConfig,
    private readonly jobs: JobRepository,
    private readonly tasks: ConversionTaskRepository,
    private readonly audits: AuditRecorder,
  ) {}

  onApplicationBootstrap(): void {
    const minutes = this.config.retention.intervalMinutes;
    if (minutes <= 0) return;
    this.timer = setInterval(
      () => void this.purge().catch((e: Error) => this.log.warn(`retention purge failed: ${e.message}`)),
      minutes * 60_000,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One purge at a time per process: a `gc` job during a timed purge waits for that one. */
  purge(now = Date.now()): Promise<PurgeResult> {
    this.running ??= this.purgeOnce(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async purgeOnce(now: number): Promise<PurgeResult> {
    const r = this.config.retention;
    const result = {
      jobs: await this.jobs.removeFinishedBefore(new Date(now - r.jobHours * HOUR_MS), r.batchSize),
      conversionTasks: await this.tasks.removeFinishedBefore(
        new Date(now - r.conversionTaskHours * HOUR_MS),
        r.batchSize,
      ),
      audits: await this.audits.removeBefore(new Date(now - r.auditDays * 24 * HOUR_MS), r.batchSize),
    };
    if (result.jobs + result.conversionTasks + result.audits > 0)
      this.log.log(
        `retention removed ${result.jobs} job(s), ${result.conversionTasks} conversion task(s), ${result.audits} audit row(s)`,
      );
    return result;
  }
}
