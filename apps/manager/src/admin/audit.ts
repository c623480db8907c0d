import { Actor, AdminRead } from '@accel/auth';
import { AuditActorType, AuditEntity, AuditEventType } from '@accel/db';
import { Controller, Get, Injectable, Logger, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { NextFunction, Request, Response } from 'express';
import { MAX_PAGE } from '../http/validators';
import { Repository } from 'typeorm';
import { paged } from '../provider/pagination';

const PROVIDER = /^\/(oapi\/v1\/jobs|preheats|registry\/notifications)(\/|$)/;
const ACTOR_TYPE: Record<Actor['kind'], AuditActorType> = {
  user: 'USER',
  token: 'PAT',
  'custom-header': 'CUSTOM',
  anonymous: 'ANONYMOUS',
};

/** Writes the audit trail: every mutating call and every provider and webhook call, allowed or refused. */
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
    this.audits.save(row).catch((e: Error) => this.log.warn(`audit write failed: ${e.message}`));
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

export class AuditQueryDto {
  @IsOptional() @IsIn(['USER', 'PAT', 'CUSTOM', 'ANONYMOUS', 'UNKNOWN']) actor_type?: AuditActorType;
  @IsOptional() @IsString() @MaxLength(1024) actor_name?: string;
  @IsOptional() @IsIn(['API', 'PROVIDER', 'WEBHOOK']) event_type?: AuditEventType;
  @IsOptional() @IsString() @MaxLength(1024) operation?: string;
  @IsOptional() @IsIn(['SUCCESS', 'FAILURE']) state?: 'SUCCESS' | 'FAILURE';
  @IsOptional() @IsString() @MaxLength(1024) path?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(100) @Max(599) status_code?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}

@ApiTags('audits')
@Controller('api/v1/audits')
export class AuditController {
  constructor(@InjectRepository(AuditEntity) private readonly audits: Repository<AuditEntity>) {}

  /** Who did what; root only. */
  @Get()
  @AdminRead({ sensitive: true })
  async list(@Query() q: AuditQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const where = Object.fromEntries(
      Object.entries({
        actorType: q.actor_type,
        actorName: q.actor_name,
        eventType: q.event_type,
        operation: q.operation,
        state: q.state,
        path: q.path,
        statusCode: q.status_code,
      }).filter(([, v]) => v !== undefined),
    );
    const rows = await paged(req, res, q.page, q.per_page, 50, (page, perPage) =>
      this.audits.findAndCount({ where, order: { id: 'DESC' }, skip: (page - 1) * perPage, take: perPage }),
    );
    return rows.map((a) => ({
      id: a.id,
      actor_type: a.actorType,
      actor_name: a.actorName,
      event_type: a.eventType,
      operation: a.operation,
      operated_at: a.createdAt.toISOString(),
      state: a.state,
      path: a.path,
      target: a.target,
      status_code: a.statusCode,
      remote_ip: a.remoteIp,
    }));
  }
}
