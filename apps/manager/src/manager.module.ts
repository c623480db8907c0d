import { AuthModule, UsersService } from '@accel/auth';
import { CommonModule, GatewayLoggerModule } from '@accel/common';
import { ConfigModule, GatewayConfig } from '@accel/config';
import { DbModule } from '@accel/db';
import { ClusterInventory } from '@accel/dragonfly';
import { PreheatModule } from '@accel/preheat';
import { QueueRootModule } from '@accel/queue';
import { DynamicModule, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AdminModule } from './admin/admin.module';
import { ConversionApiModule } from './conversion/conversion-api.module';
import { HealthModule } from './health/health.module';
import { ProviderModule } from './provider/provider.module';
import { QueueBoardModule } from './queue-board/queue-board.module';
import { RetentionModule } from './retention/retention.module';
import { QueueProcessorsModule } from '../../worker/src/queue-processors.module';

@Injectable()
class BootstrapTasks implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersService,
    private readonly inventory: ClusterInventory,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.users.bootstrapRoot();
    await this.inventory.syncConfigured();
  }
}

/** The manager: provider + admin API on :8080, conversion API on :2077, and (single-node mode) the workers. */
@Module({})
export class ManagerModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: ManagerModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        GatewayLoggerModule,
        DbModule,
        QueueRootModule,
        AuthModule,
        PreheatModule,
        ProviderModule,
        HealthModule,
        AdminModule,
        ConversionApiModule,
        RetentionModule,
        ...(config.queueDashboard.enabled ? [QueueBoardModule] : []),
        ...(config.server.runWorkers ? [QueueProcessorsModule.forRoot(config)] : []),
      ],
      providers: [BootstrapTasks],
    };
  }
}
