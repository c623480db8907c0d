import { Actor } from '@accel/auth';
import { AuditActorType, AuditEntity, AuditEventType, deleteInBatches } from '@accel/db';
import { Injectable, Logger } from '@nestjs/common';
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

/**
 * The `audit` table: the trail of every mutating call and every provider and webhook call,
 * allowed or refused (written by the middleware), and its pages for the admin API.
 */
@Injectable()
export class AuditRecorder {
  private readonly log = new Logger('Audit');

  constructor(@InjectRepository(AuditEntity) private readonly audits: Repository<AuditEntity>) {}

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
    });
    this.audits
      .save(row, { transaction: false, reload: false })
      .catch((e: Error) => this.log.warn(`audit write failed: ${e.message}`));
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
