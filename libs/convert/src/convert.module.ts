import { GatewayConfig } from '@accel/config';
import { DbModule } from '@accel/db';
import { PreheatModule } from '@accel/preheat';
import { QueueName } from '@accel/queue';
import { RegistryModule } from '@accel/registry';
import { BullModule } from '@nestjs/bullmq';
import { Logger, Module } from '@nestjs/common';
import { pickDeflate } from './codecs/deflate/deflate-engine';
import { pickGunzip } from './codecs/deflate/gunzip-engine';
import { ImageDriver, parseDriver } from './drivers';
import { ConvertedLayerRepository } from './drivers/per-layer/converted-layer.repository';
import { ImageConverter } from './image/image-converter';
import { ImageStore } from './image/image-store';
import { TagPublisher } from './image/tag-publisher';
import { ConversionEngine } from './task/conversion.engine';
import { ConversionProcessor } from './task/conversion.processor';
import { ConversionReconciler } from './task/conversion.reconciler';
import { ConversionTaskRepository } from './task/conversion-task.repository';
import { ConversionService } from './task/conversion.service';

const queues = BullModule.registerQueue({ name: QueueName.Convert });

/** The configured driver, its options parsed once: a bad option stops the start with its name. */
const imageDriver = {
  provide: ImageDriver,
  inject: [GatewayConfig, ImageStore, ConvertedLayerRepository],
  useFactory: (config: GatewayConfig, store: ImageStore, convertedLayers: ConvertedLayerRepository) => {
    const parsed = parseDriver(config.converter.driver);
    if (parsed.unread.length)
      new Logger('ImageDriver').warn(
        `converter.driver.config: ${parsed.unread.join(', ')} ${parsed.unread.length === 1 ? 'is' : 'are'} not used by the ${parsed.type} driver`,
      );
    const logger = new Logger('ImageDriver');
    const deflate = pickDeflate(config.converter.deflate);
    const gunzip = pickGunzip(config.converter.gunzip);
    for (const [what, { engine, fallbackReason }] of [
      ['gzip members compress', deflate],
      ['source layers decompress', gunzip],
    ] as const) {
      if (fallbackReason) logger.warn(`${what} with ${engine.name}: ${fallbackReason}`);
      else logger.log(`${what} with ${engine.name}`);
    }
    return parsed.create({
      store,
      convertedLayers,
      parallelLayers: config.converter.worker,
      deflate: deflate.engine,
      gunzip: gunzip.engine,
    });
  },
};

/** Creating and reading conversion tasks (what the API needs). */
@Module({
  imports: [DbModule, queues],
  providers: [ConversionTaskRepository, ConversionService],
  exports: [ConversionTaskRepository, ConversionService],
})
export class ConvertModule {}

/** The conversion processor: imported by the worker app, and by the manager in single-node mode. */
@Module({
  imports: [ConvertModule, DbModule, RegistryModule, PreheatModule, queues],
  providers: [
    ImageStore,
    TagPublisher,
    ConvertedLayerRepository,
    imageDriver,
    ImageConverter,
    ConversionEngine,
    ConversionProcessor,
    ConversionReconciler,
  ],
})
export class ConvertWorkerModule {}
