import { ConvertModule } from '@accel/convert';
import { PreheatModule } from '@accel/preheat';
import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { GcJobService } from './gc-job.service';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';

@Module({
  imports: [PreheatModule, ConvertModule, AdminModule],
  controllers: [RetentionController],
  providers: [RetentionService, GcJobService],
  exports: [RetentionService, GcJobService],
})
export class RetentionModule {}
