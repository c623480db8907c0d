import { PreheatModule } from '@accel/preheat';
import { Module } from '@nestjs/common';
import { DragonflyV1Controller } from './dragonfly-v1.controller';
import { DragonflyV2Controller } from './dragonfly-v2.controller';
import { HealthController } from './health.controller';
import { KrakenController } from './kraken.controller';
import { RetentionModule } from '../retention/retention.module';

/** Every Harbor provider dialect on :8080. */
@Module({
  imports: [PreheatModule, RetentionModule],
  controllers: [HealthController, DragonflyV2Controller, DragonflyV1Controller, KrakenController],
})
export class ProviderModule {}
