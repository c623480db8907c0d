import { Actor } from '@accel/auth';
import { AuditActorType, AuditEntity, AuditEventType, deleteInBatches } from '@accel/db';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { NextFunction, Request, Response } from 'express';
import { FindOptionsWhere, LessThan, Repository } from 'typeorm';

const PROVIDER = /^\/(oapi\/v1\/jobs|preheats|registry\/notifications)(\/|$)/;
const ACTOR_TYPE: Record<Actor['kind'], AuditActorType> = {
  user: 'USER',
  token: 'PAT',
  'custom-header': 'CUSTOM',
  anonymous: 'ANONYMOUS',
};

/** Rows recorded within this long of each other are written by one INSERT. */
const FLUSH_MS = 50;
/** ...and no more than this many in one statement. */
const MAX_BATCH = 500;

/**
 * The `audit` table: the trail of every mutating call and every provider and webhook call,
 * allowed or refused (written by the middleware), and its pages for the admin API.
 * Rows are written in batches: on the job-create path one INSERT per call was a quarter of
 * the statements the gateway sent; a row reaches the table within FLUSH_MS of its answer.
 */
@Injectable()
export class AuditRecorder implements BeforeApplicationShutdown {
  private readonly log = new Logger('Audit');
  private pending: AuditEntity[] = [];
  private timer?: NodeJS.Timeout;
  private readonly writing = new Set<Promise<void>>();
  private closing = false;

  constructor(@InjectRepository(AuditEntity) private readonly audits: Repository<AuditEntity>) {}

  /** What is recorded before the server stops is written; anything later goes out at once. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.flush();
    await Promise.all([...this.writing]);
  }

  private add(row: AuditEntity): void {
    this.pending.push(row);
    if (this.closing || this.pending.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    const write = this.audits
      .createQueryBuilder()
      .insert()
      .values(rows)
      .updateEntity(false)
      .execute()
      .then(
        () => undefined,
        (e: Error) => this.log.warn(`audit write of ${rows.length} row(s) failed: ${e.message}`),
      )
      .finally(() => this.writing.delete(write));
    this.writing.add(write);
  }

  private record(req: Request, res: Response, event: AuditEventType, target: string): void {
    const actor = (req as Request & { user?: Actor }).user;
    // A refused sign-in names who tried, when the body named anyone.
    const signinName = (req.body as { name?: unknown } | undefined)?.name;
    const row = this.audits.create({
      actorType: actor ? ACTOR_TYPE[actor.kind] : 'UNKNOWN',
      actorName: (
        actor?.name ?? (req.path.endsWith('/signin') && typeof signinName === 'string' ? signinName : '')
      ).slice(0, 256),
      eventType: event,
      operation: req.method.slice(0, 16),
      path: req.path.slice(0, 1024),
      target: target.slice(0, 1024),
      state: res.statusCode < 400 ? 'SUCCESS' : 'FAILURE',
      statusCode: res.statusCode,
      remoteIp: (req.socket.remoteAddress ?? '').slice(0, 64),
      // When it happened, not when its batch is written.
      createdAt: new Date(),
    });
    this.add(row);
  }

  /** One page, newest first, and the total. */
  page(where: FindOptionsWhere<AuditEntity>, page: number, perPage: number): Promise<[AuditEntity[], number]> {
    return this.audits.findAndCount({ where, order: { id: 'DESC' }, skip: (page - 1) * perPage, take: perPage });
  }

  /** Audit rows older than `before` (retention). */
  removeBefore(before: Date, batchSize: number): Promise<number> {
    return deleteInBatches(this.audits, { createdAt: LessThan(before) }, batchSize);
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const path = req.path;
      const event: AuditEventType | undefined = PROVIDER.test(path)
        ? 'PROVIDER'
        : path.startsWith('/api/v1/conversions') && req.method === 'POST'
          ? 'WEBHOOK'
          : req.method !== 'GET' && req.method !== 'HEAD'
            ? 'API'
            : undefined;
      if (!event) return next();
      let target = '';
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        target = auditTarget(body);
        return json(body);
      };
      // Runs after the answer is sent: whatever goes wrong here is logged, never thrown.
      res.on('finish', () => {
        try {
          this.record(req, res, event, target);
        } catch (e) {
          this.log.warn(`audit record failed: ${(e as Error).message}`);
        }
      });
      next();
    };
  }
}

/** Ids and names only: a created token's value is never recorded. */
function auditTarget(body: unknown): string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return '';
  const b = body as Record<string, unknown>;
  const v = [b.id, b.ID, b.name, b.host].find((x) => typeof x === 'string' || typeof x === 'number');
  return v === undefined ? '' : String(v);
}
