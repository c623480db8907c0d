import {
  ConversionProgressView,
  ConversionStatus,
  ConversionTaskEntity,
  deleteInBatches,
  insertHoldingLiveKey,
  updateWhere,
} from '@accel/db';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Like, Repository } from 'typeorm';

export interface ConversionQuery {
  status?: ConversionStatus;
  /** Substring of the source image. */
  source?: string;
  page: number;
  perPage: number;
}

/** What a task's end records. */
export type ConversionOutcome = Partial<
  Pick<
    ConversionTaskEntity,
    'status' | 'reason' | 'sourceDigest' | 'targetDigest' | 'sourceSize' | 'targetSize' | 'preheatJobId' | 'progress'
  >
>;

/** Thrown when a live task already holds the key (a webhook delivered twice). */
export class DuplicateLiveTask extends Error {
  constructor(readonly live: ConversionTaskEntity) {
    super(`task ${live.uuid} already covers it`);
  }
}

/** The `conversion_task` table. */
@Injectable()
export class ConversionTaskRepository {
  constructor(@InjectRepository(ConversionTaskEntity) private readonly rows: Repository<ConversionTaskEntity>) {}

  /** Inserts a task; one that takes a live key another task holds is refused with that task. */
  async insert(fields: Partial<ConversionTaskEntity>): Promise<ConversionTaskEntity> {
    const out = await insertHoldingLiveKey(this.rows, fields);
    if ('live' in out) throw new DuplicateLiveTask(out.live);
    return out.row;
  }

  byId(id: number): Promise<ConversionTaskEntity | null> {
    return this.rows.findOneBy({ id });
  }

  byUuid(uuid: string): Promise<ConversionTaskEntity | null> {
    return this.rows.findOneBy({ uuid });
  }

  /**
   * Ends a task that is still PROCESSING (a cancelled one stays cancelled) and frees its live
   * key, so a later push of the same image converts again.
   */
  async finish(id: number, outcome: ConversionOutcome & { status: 'COMPLETED' | 'FAILED' }): Promise<void> {
    await updateWhere(this.rows, { id, status: 'PROCESSING' }, { ...outcome, activeKey: null, finishedAt: new Date() });
  }

  /** Records how far a running task is; an ended task keeps what its end recorded. */
  async saveProgress(id: number, progress: ConversionProgressView): Promise<void> {
    await updateWhere(this.rows, { id, status: 'PROCESSING' }, { progress });
  }

  /** PROCESSING tasks created before `olderThan` (the reconciler's candidates). */
  processingBefore(olderThan: Date, take = 500): Promise<ConversionTaskEntity[]> {
    return this.rows.find({ where: { status: 'PROCESSING', isDel: 0, createdAt: LessThan(olderThan) }, take });
  }

  /** Finished tasks that ended before `before` (retention); PROCESSING tasks are never touched. */
  removeFinishedBefore(before: Date, batchSize: number): Promise<number> {
    return deleteInBatches(this.rows, { status: In(['COMPLETED', 'FAILED']), finishedAt: LessThan(before) }, batchSize);
  }

  page(q: ConversionQuery): Promise<[ConversionTaskEntity[], number]> {
    return this.rows.findAndCount({
      where: {
        isDel: 0,
        ...(q.status ? { status: q.status } : {}),
        ...(q.source ? { source: Like(`%${q.source.replace(/[%_\\]/g, '\\$&')}%`) } : {}),
      },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (q.page - 1) * q.perPage,
      take: q.perPage,
    });
  }
}
