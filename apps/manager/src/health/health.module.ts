import { DragonflyModule } from '@accel/dragonfly';
import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { OperationsHealthController } from './operations-health.controller';
import { ReadinessService } from './readiness.service';

@Module({
  imports: [DragonflyModule],
  providers: [ReadinessService],
  controllers: [OperationsHealthController, MetricsController],
})
export class HealthModule {}
