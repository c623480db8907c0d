import { AdminRead } from '@accel/auth';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { paged } from '../../http/pagination';
import { AuditQueryDto } from './audit.dto';
import { AuditRecorder } from './audit.recorder';
import { auditView } from './audit.view';

@ApiTags('audits')
@Controller('api/v1/audits')
export class AuditController {
  constructor(private readonly audits: AuditRecorder) {}

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
      this.audits.page(where, page, perPage),
    );
    return rows.map(auditView);
  }
}
