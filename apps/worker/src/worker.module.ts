import { CommonModule, GatewayLoggerModule } from '@accel/common';
import { ConvertWorkerModule } from '@accel/convert';
import { ConfigModule, GatewayConfig, worksQueue } from '@accel/config';
import { DbModule } from '@accel/db';
import { PreheatWorkerModule } from '@accel/preheat';
import { QueueRootModule } from '@accel/queue';
import { DynamicModule, Module } from '@nestjs/common';

/** The queue processors alone (those of server.workerQueues), for scaling work out beside the manager. */
@Module({})
export class WorkerModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        GatewayLoggerModule,
        DbModule,
        QueueRootModule,
        ...(worksQueue(config, 'preheat') ? [PreheatWorkerModule] : []),
        ...(worksQueue(config, 'convert') ? [ConvertWorkerModule] : []),
      ],
    };
  }
}
