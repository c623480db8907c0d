import { MetricsRead } from '@accel/auth';
import { GatewayMetrics } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Response } from 'express';

/** Prometheus metrics: console users, admin-scoped tokens or `metrics.token` (unless served on `metrics.port`). */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Get()
  @MetricsRead()
  async scrape(@Res() res: Response): Promise<void> {
    if (!this.config.metrics.enabled || this.config.metrics.port > 0) throw new NotFoundException('record not found');
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
