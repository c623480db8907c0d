import { GatewayMetrics, describeError } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { PreheatService } from '@accel/preheat';
import { RegistryAccess, manifestUrl, parseImageReference } from '@accel/registry';
import { Injectable, Logger } from '@nestjs/common';
import { ConversionProgress } from '../image/conversion-progress';
import { ImageConverter } from '../image/image-converter';
import { ConversionTaskRepository } from './conversion-task.repository';

/** Runs one conversion task to COMPLETED or FAILED, and chains the preheat when configured. */
@Injectable()
export class ConversionEngine {
  private readonly log = new Logger(ConversionEngine.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly converter: ImageConverter,
    private readonly access: RegistryAccess,
    private readonly preheat: PreheatService,
    private readonly tasks: ConversionTaskRepository,
    private readonly metrics: GatewayMetrics,
  ) {}

  async run(taskId: number, handedBack?: AbortSignal): Promise<void> {
    const task = await this.tasks.byId(taskId);
    if (!task || task.status !== 'PROCESSING') return;
    const started = Date.now();
    const progress = new ConversionProgress((view) => this.tasks.saveProgress(task.id, view));
    try {
      const src = parseImageReference(task.source);
      const target = parseImageReference(task.target);
      const loc = {
        scheme: this.access.schemeFor(src.host),
        host: src.host,
        repository: src.repository,
        reference: task.sourceDigest || src.digest || src.tag || 'latest',
      };
      const result = await this.converter.convert(loc, target.tag!, task.source, src.tag, progress);
      this.metrics.conversionDuration.observe({ driver: task.driver, phase: 'convert' }, GatewayMetrics.since(started));
      this.metrics.conversionBytes.inc({ driver: task.driver, direction: 'in' }, result.sourceSize);
      this.metrics.conversionBytes.inc({ driver: task.driver, direction: 'out' }, result.targetSize);
      const chainStarted = Date.now();
      let preheatJobId: number | null = null;
      const chain = this.config.converter.preheat;
      if (chain.enabled && !result.skipped && !result.superseded) {
        progress.phase('preheat');
        const job = await this.preheat.create(
          {
            type: 'image',
            url: manifestUrl({ ...loc, reference: target.tag! }),
            scope: chain.scope,
            schedulerClusterIds: chain.cluster_ids,
          },
          'conversion',
          0,
        );
        preheatJobId = job.id;
        this.metrics.conversionDuration.observe(
          { driver: task.driver, phase: 'preheat' },
          GatewayMetrics.since(chainStarted),
        );
      }
      progress.phase('done');
      await progress.flush();
      // Only a task still PROCESSING takes the outcome: a cancelled one stays cancelled.
      await this.tasks.finish(task.id, {
        progress: progress.view,
        status: 'COMPLETED',
        reason: result.skipped ?? result.superseded ?? null,
        sourceDigest: result.sourceDigest,
        targetDigest: result.skipped || result.superseded ? null : result.digest,
        sourceSize: result.sourceSize,
        targetSize: result.targetSize,
        preheatJobId,
      });
      this.metrics.conversions.inc({ driver: task.driver, state: 'COMPLETED' });
      this.log.log(
        `${task.source} → ${result.skipped ?? result.superseded ?? `${task.target} (${result.digest})`} in ${Date.now() - started} ms${preheatJobId ? `, preheat job ${preheatJobId}` : ''}`,
      );
    } catch (e) {
      const reason = describeError(e);
      // Handed back at shutdown, a failure says only that this process stopped: the next worker converts.
      if (handedBack?.aborted) {
        this.log.warn(`${task.source} was handed back at shutdown (${reason}); the next worker converts it`);
        return;
      }
      // A FAILED task frees its key: the next delivery of the same push tries again. Its progress says where it stopped.
      await progress.flush();
      await this.tasks.finish(task.id, { status: 'FAILED', reason, progress: progress.view });
      this.metrics.conversions.inc({ driver: task.driver, state: 'FAILED' });
      this.log.warn(`${task.source} failed: ${reason}`);
    }
  }
}
