import { SharedResultCache } from '@accel/common';
import {
  GroupJobState,
  JobEntity,
  JobResult,
  JobState,
  deleteInBatches,
  findOneWhere,
  insertHoldingLiveKey,
  updateWhere,
} from '@accel/db';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, MoreThan, Repository, SelectQueryBuilder } from 'typeorm';

export interface JobQuery {
  type?: string;
  state?: string;
  userId?: number;
  /** Substring of the preheated URL (image). */
  image?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  page: number;
  perPage: number;
}

/** Thrown when a live job already holds the key (an identical create, retried). */
export class DuplicateLiveJob extends Error {
  constructor(readonly live: JobEntity) {
    super(`job ${live.id} already covers it`);
  }
}

/** Counts above this are reused for COUNT_TTL_MS (below it, counting is cheap and stays exact). */
const LARGE_COUNT = 10_000;
const COUNT_TTL_MS = 5_000;
/** Past this offset a page seeks from a bookmark instead of walking every index entry before it. */
export const SEEK_FROM_OFFSET = 5_000;
/** A bookmark every this many rows of a filter's order: a deep page walks at most this many. */
export const BOOKMARK_EVERY = 1_000;

/** The sort key (created_at as MariaDB prints it, id) of every BOOKMARK_EVERY-th row, newest first. */
type Bookmark = { at: string; id: number };

/** The `job` table. */
@Injectable()
export class JobRepository {
  private readonly counts = new SharedResultCache<number>({ ttlMs: () => COUNT_TTL_MS });
  private readonly bookmarks = new SharedResultCache<Bookmark[]>({
    ttlMs: () => COUNT_TTL_MS,
    serveStale: true,
    maxKeys: 100,
  });

  constructor(@InjectRepository(JobEntity) private readonly rows: Repository<JobEntity>) {}

  /** Inserts a job; one that takes a live key another job holds is refused with that job. */
  async insert(fields: Partial<JobEntity>): Promise<JobEntity> {
    const out = await insertHoldingLiveKey(this.rows, fields);
    if ('live' in out) throw new DuplicateLiveJob(out.live);
    return out.row;
  }

  byId(id: number): Promise<JobEntity | null> {
    return findOneWhere(this.rows, { id, isDel: 0 });
  }

  /** The newest job of this image key that succeeded after `since`. */
  succeededSince(imageKey: string, since: Date): Promise<JobEntity | null> {
    return this.rows.findOne({
      where: { imageKey, state: 'SUCCESS' as JobState, isDel: 0, finishedAt: MoreThan(since) },
      order: { id: 'DESC' },
    });
  }

  /** Progress of a job still PENDING (a finished job's result is never overwritten). */
  async recordProgress(id: number, result: GroupJobState): Promise<void> {
    await updateWhere(this.rows, { id, state: 'PENDING' }, { result });
  }

  /**
   * Ends a job that is still PENDING (a cancelled one stays cancelled): its sealed headers are
   * dropped and its live key freed.
   */
  async finish(id: number, state: 'SUCCESS' | 'FAILURE', result: JobResult): Promise<void> {
    await updateWhere(
      this.rows,
      { id, state: 'PENDING' },
      { state, result, finishedAt: new Date(), sealedHeaders: null, activeKey: null },
    );
  }

  /** PENDING preheat jobs created before `olderThan` (the reconciler's candidates). */
  async pendingBefore(olderThan: Date, take = 500): Promise<number[]> {
    const rows = await this.rows.find({
      select: { id: true },
      where: { state: 'PENDING', type: 'preheat', isDel: 0, createdAt: LessThan(olderThan) },
      take,
    });
    return rows.map((r) => r.id);
  }

  /**
   * One page, newest first, and the filter's count. The page's ids come from the list indexes
   * alone, then only those rows are read. A deep page starts from the nearest bookmark at or
   * before it, so page 5,000 costs what page 50 does rather than a walk of 100,000 entries.
   */
  async page(q: JobQuery): Promise<[JobEntity[], number]> {
    const filtered = () => {
      const qb = this.rows.createQueryBuilder('j').where('j.is_del = 0');
      if (q.type) qb.andWhere('j.type = :type', { type: q.type });
      if (q.state) qb.andWhere('j.state = :state', { state: q.state });
      if (q.userId !== undefined) qb.andWhere('j.user_id = :userId', { userId: q.userId });
      if (q.image) qb.andWhere('j.args LIKE :image', { image: `%${q.image.replace(/[%_\\]/g, '\\$&')}%` });
      if (q.createdAfter) qb.andWhere('j.created_at >= :after', { after: q.createdAfter });
      if (q.createdBefore) qb.andWhere('j.created_at < :before', { before: q.createdBefore });
      return qb;
    };
    const key = JSON.stringify([q.type, q.state, q.userId, q.image, q.createdAfter, q.createdBefore]);
    const pageOf = async () => {
      let offset = (q.page - 1) * q.perPage;
      const qb = filtered();
      if (offset >= SEEK_FROM_OFFSET) {
        const marks = await this.bookmarks.get(key, () => this.findBookmarks(filtered));
        const i = Math.min(Math.floor(offset / BOOKMARK_EVERY), marks.length - 1);
        if (i > 0) {
          qb.andWhere('(j.created_at < :markAt OR (j.created_at = :markAt AND j.id <= :markId))', {
            markAt: marks[i].at,
            markId: marks[i].id,
          });
          offset -= i * BOOKMARK_EVERY;
        }
      }
      return qb
        .select('j.id', 'id')
        .orderBy('j.created_at', 'DESC')
        .addOrderBy('j.id', 'DESC')
        .offset(offset)
        .limit(q.perPage)
        .getRawMany<{ id: string | number }>();
    };
    // A large count is reused for a while (concurrent lists share one): a busy console does not
    // count a hundred thousand index entries per request, and the Link header's last page may
    // lag that long. Below LARGE_COUNT, counting is cheap and stays exact.
    const total = this.counts.get(
      key,
      () => filtered().getCount(),
      (n) => n >= LARGE_COUNT,
    );
    const [ids, count] = await Promise.all([pageOf(), total]);
    if (ids.length === 0) return [[], count];
    const order = ids.map((r) => Number(r.id));
    const rows = await this.rows.findBy({ id: In(order) });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return [order.map((id) => byId.get(id)).filter((r): r is JobEntity => r !== undefined), count];
  }

  /**
   * A filter's bookmarks, found by one pass over its index. They are kept COUNT_TTL_MS, then
   * served while fresh ones are found, so no request waits for that pass but the first. Deep
   * pages may lag as long as the count does; rows created since do not move them.
   */
  private async findBookmarks(filtered: () => SelectQueryBuilder<JobEntity>): Promise<Bookmark[]> {
    const [inner, params] = filtered()
      .select('CAST(j.created_at AS CHAR)', 'at')
      .addSelect('j.id', 'id')
      .addSelect('ROW_NUMBER() OVER (ORDER BY j.created_at DESC, j.id DESC) - 1', 'pos')
      .getQueryAndParameters();
    const rows: { at: string; id: string | number }[] = await this.rows.query(
      `SELECT t.at, t.id FROM (${inner}) t WHERE t.pos % ${BOOKMARK_EVERY} = 0 ORDER BY t.pos`,
      params,
    );
    return rows.map((r) => ({ at: r.at, id: Number(r.id) }));
  }

  /** Finished jobs that ended before `before` (retention); PENDING jobs are never touched. */
  removeFinishedBefore(before: Date, batchSize: number): Promise<number> {
    return deleteInBatches(this.rows, { state: In(['SUCCESS', 'FAILURE']), finishedAt: LessThan(before) }, batchSize);
  }

  /** Hard delete, as Dragonfly does. */
  async remove(id: number): Promise<boolean> {
    return Boolean((await this.rows.delete({ id })).affected);
  }
}
