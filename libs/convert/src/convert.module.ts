import { DbModule } from '@accel/db';
import { PreheatModule } from '@accel/preheat';
import { QueueName } from '@accel/queue';
import { RegistryModule } from '@accel/registry';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConversionEngine } from './conversion.engine';
import { ConversionProcessor } from './conversion.processor';
import { ConversionReconciler } from './conversion.reconciler';
import { ConversionService } from './conversion.service';
import { ImageConverter } from './image-converter';

const queues = BullModule.registerQueue({ name: QueueName.Convert });

/** Creating and reading conversion tasks (what the API needs). */
@Module({
  imports: [DbModule, queues],
  providers: [ConversionService],
  exports: [ConversionService],
})
export class ConvertModule {}

/** The conversion processor: imported by the worker app, and by the manager in single-node mode. */
@Module({
  imports: [ConvertModule, DbModule, RegistryModule, PreheatModule, queues],
  providers: [ImageConverter, ConversionEngine, ConversionProcessor, ConversionReconciler],
})
export class ConvertWorkerModule {}
