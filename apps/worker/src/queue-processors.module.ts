import { ConvertWorkerModule } from '@accel/convert';
import { GatewayConfig } from '@accel/config';
import { PreheatWorkerModule } from '@accel/preheat';
import { DynamicModule, Module } from '@nestjs/common';

/** The queue processors of server.workerQueues: a worker's whole work, and the manager's in single-node mode. */
@Module({})
export class QueueProcessorsModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const works = new Set(config.server.workerQueues);
    return {
      module: QueueProcessorsModule,
      imports: [
        ...(works.has('preheat') ? [PreheatWorkerModule] : []),
        ...(works.has('convert') ? [ConvertWorkerModule] : []),
      ],
    };
  }
}
