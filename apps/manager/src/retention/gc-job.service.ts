import { describeError } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { GcJobArgs, JobEntity } from '@accel/db';
import { JobRepository } from '@accel/preheat';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RetentionService } from './retention.service';

/**
 * Dragonfly's `gc` job: recorded as a job row (args `{type, ttl, batch_size}`, result
 * `{purged}` or `{purged, error}`), run at once, answered when it has ended.
 */
@Injectable()
export class GcJobService {
  constructor(
    private readonly config: GatewayConfig,
    private readonly jobs: JobRepository,
    private readonly retention: RetentionService,
  ) {}

  async run(kind: GcJobArgs['type'], userId: number, bio = ''): Promise<JobEntity> {
    const ttlMs = kind === 'job' ? this.retention.ttlMs.jobs : this.retention.ttlMs.audits;
    const job = await this.jobs.insert({
      taskId: randomUUID(),
      bio,
      type: 'gc',
      state: 'PENDING',
      args: { type: kind, ttl: ttlMs * 1_000_000, batch_size: this.config.retention.batchSize },
      result: null,
      userId,
      dialect: 'dragonfly-v2',
      imageKey: '',
      activeKey: null,
      sealedHeaders: null,
      schedulerClusterIds: [],
    });
    try {
      await this.jobs.finish(job.id, 'SUCCESS', { purged: await this.retention.purgeKind(kind) });
    } catch (e) {
      await this.jobs.finish(job.id, 'FAILURE', { purged: 0, error: describeError(e) });
    }
    return (await this.jobs.byId(job.id)) ?? job;
  }
}
