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

  /** The TTLs of `retention.*`, in milliseconds. */
  get ttlMs(): { jobs: number; conversionTasks: number; audits: number } {
    const r = this.config.retention;
    return {
      jobs: r.jobHours * HOUR_MS,
      conversionTasks: r.conversionTaskHours * HOUR_MS,
      audits: r.auditDays * 24 * HOUR_MS,
    };
  }

  /** Dragonfly's `gc` job: one kind of row past its TTL, after a purge already running. */
  async purgeKind(kind: 'job' | 'audit', now = Date.now()): Promise<number> {
    await this.running?.catch(() => undefined);
    return kind === 'job' ? this.removeJobs(now) : this.removeAudits(now);
  }

  private removeJobs(now: number): Promise<number> {
    return this.jobs.removeFinishedBefore(new Date(now - this.ttlMs.jobs), this.config.retention.batchSize);
  }

  private removeAudits(now: number): Promise<number> {
    return this.audits.removeBefore(new Date(now - this.ttlMs.audits), this.config.retention.batchSize);
  }

  private async purgeOnce(now: number): Promise<PurgeResult> {
    const result = {
      jobs: await this.removeJobs(now),
      conversionTasks: await this.tasks.removeFinishedBefore(
        new Date(now - this.ttlMs.conversionTasks),
        this.config.retention.batchSize,
      ),
      audits: await this.removeAudits(now),
    };
    if (result.jobs + result.conversionTasks + result.audits > 0)
      this.log.log(
        `retention removed ${result.jobs} job(s), ${result.conversionTasks} conversion task(s), ${result.audits} audit row(s)`,
      );
    return result;
  }
}
