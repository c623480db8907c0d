import { CommonModule, GatewayLoggerModule } from '@accel/common';
import { ConfigModule, GatewayConfig } from '@accel/config';
import { DbModule } from '@accel/db';
import { QueueRootModule } from '@accel/queue';
import { DynamicModule, Module } from '@nestjs/common';
import { QueueProcessorsModule } from './queue-processors.module';

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
        QueueProcessorsModule.forRoot(config),
      ],
    };
  }
}
