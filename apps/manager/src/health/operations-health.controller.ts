import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';
import { ReadinessService } from './readiness.service';

/**
 * Probes for orchestrators, next to Harbor's cheap `/healthy`: `/livez` says the process serves
 * requests; `/readyz` says whether it can preheat (503 while the database or Redis is away, or a
 * configured cluster has no healthy seed peer).
 */
@Controller()
export class OperationsHealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('livez')
  live(@Res() res: Response): void {
    res.status(200).json({ status: 'live' });
  }

  @Get('readyz')
  async ready(@Res() res: Response): Promise<void> {
    const r = await this.readiness.check();
    if (r.status !== 'ready') res.setHeader('Retry-After', '5');
    res.status(r.status === 'ready' ? 200 : 503).json(r);
  }
}
