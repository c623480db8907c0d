import { GatewayMetrics, currentRequestId } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { ConversionTaskEntity } from '@accel/db';
import {
  ConversionQueuePayload,
  QueueName,
  enqueueSavedRow,
  conversionQueueJobId,
  queueEntryOptions,
} from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createHash, randomUUID } from 'node:crypto';
import { ConversionQuery, ConversionTaskRepository, DuplicateLiveTask } from './conversion-task.repository';
import { PushedArtifact } from './webhook';
import { parseImageReference } from '@accel/registry';

/** Creates conversion tasks (row first, then queue) and reads them. */
@Injectable()
export class ConversionService {
  private readonly log = new Logger(ConversionService.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly tasks: ConversionTaskRepository,
    @InjectQueue(QueueName.Convert) private readonly queue: Queue<ConversionQueuePayload>,
    metrics: GatewayMetrics,
  ) {
    metrics.watchQueue(QueueName.Convert, () => this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'));
  }

  get driver(): string {
    return this.config.converter.driver.type;
  }

  private get suffix(): string | undefined {
    return this.config.converter.rules.find((r) => r.tag_suffix)?.tag_suffix;
  }

  private get cacheTag(): string | undefined {
    return this.config.converter.rules.find((r) => r.cache_tag)?.cache_tag;
  }

  /**
   * One task per pushed artifact. A delivery Harbor retries, or a duplicate, returns the live
   * task of the same (source digest, driver, target) instead of starting another conversion.
   */
  async submit(a: PushedArtifact): Promise<ConversionTaskEntity> {
    const suffix = this.suffix;
    const base = {
      uuid: randomUUID(),
      source: a.resourceUrl,
      sourceDigest: a.digest ?? '',
      driver: this.driver,
      reason: null,
      activeKey: null,
      finishedAt: null,
    };
    const skip = (reason: string) =>
      this.tasks.insert({ ...base, status: 'COMPLETED', reason, finishedAt: new Date() });
    if (!suffix) {
      return this.tasks.insert({
        ...base,
        status: 'FAILED',
        reason: 'not found matched conversion rule (converter.rules[].tag_suffix)',
        finishedAt: new Date(),
      });
    }
    if (!a.tag) return skip('skipped: pushed by digest, so there is no tag to name the converted image');
    if (a.tag.endsWith(suffix)) return skip(`skipped: the tag already ends with ${suffix}`);
    if (this.cacheTag && a.tag === this.cacheTag) return skip('skipped: the tag is the conversion cache tag');
    const target = `${a.host}/${a.repository}:${a.tag}${suffix}`;
    const activeKey = createHash('sha256')
      .update(`${a.digest ?? a.resourceUrl}|${this.driver}|${target}`)
      .digest('hex');
    let task: ConversionTaskEntity;
    try {
      task = await this.tasks.insert({ ...base, target, status: 'PROCESSING', activeKey });
    } catch (e) {
      if (!(e instanceof DuplicateLiveTask)) throw e;
      this.log.log(`duplicate delivery of ${a.resourceUrl}: ${e.message}`);
      return e.live;
    }
    await this.enqueue(task);
    return task;
  }

  async enqueue(task: ConversionTaskEntity): Promise<void> {
    await enqueueSavedRow(
      this.queue,
      this.config.redis.enqueueTimeoutMs,
      this.log,
      `task ${task.uuid}`,
      'convert',
      { taskId: task.id, requestId: currentRequestId() },
      queueEntryOptions.convert(task.activeKey!),
    );
  }

  /** Polls until the task leaves PROCESSING (sync mode); conversions can take minutes. */
  async waitFinished(uuid: string, timeoutMs = 3_600_000): Promise<ConversionTaskEntity> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.tasks.byUuid(uuid);
      if (!t) throw new Error(`conversion ${uuid} is gone`);
      if (t.status !== 'PROCESSING') return t;
      if (Date.now() > end) throw new Error(`conversion ${uuid} still running after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Ends a PROCESSING task as FAILED; a conversion already running stops at its next step or finishes unrecorded. */
  async cancel(uuid: string, by: string): Promise<ConversionTaskEntity | null> {
    const task = await this.findByUuid(uuid);
    if (!task) return null;
    if (task.status !== 'PROCESSING') return task;
    await this.tasks.finish(task.id, { status: 'FAILED', reason: `cancelled by ${by}` });
    if (task.activeKey) await this.queue.remove(conversionQueueJobId(task.activeKey)).catch(() => 0);
    return this.findByUuid(uuid);
  }

  /** Submits a finished task's source again; a live task for the same key is returned as is. */
  async retry(uuid: string): Promise<ConversionTaskEntity | null> {
    const task = await this.findByUuid(uuid);
    if (!task) return null;
    if (task.status === 'PROCESSING') return task;
    const ref = parseImageReference(task.source);
    return this.submit({ ...ref, digest: task.sourceDigest || ref.digest, resourceUrl: task.source });
  }

  findByUuid(uuid: string): Promise<ConversionTaskEntity | null> {
    return this.tasks.byUuid(uuid);
  }

  list(q: ConversionQuery): Promise<[ConversionTaskEntity[], number]> {
    return this.tasks.page(q);
  }
}
