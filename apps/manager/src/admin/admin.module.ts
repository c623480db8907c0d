import { AuthModule } from '@accel/auth';
import { GatewayConfig } from '@accel/config';
import { ConvertModule } from '@accel/convert';
import { DbModule } from '@accel/db';
import { PreheatModule } from '@accel/preheat';
import { RegistryModule } from '@accel/registry';
import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { DragonflyModule } from '@accel/dragonfly';
import { AuditController } from './audit/audit.controller';
import { AuditRecorder } from './audit/audit.recorder';
import { InventoryController } from './clusters/clusters.controller';
import { InventoryAdminService } from './clusters/inventory.service';
import { ConversionTasksController } from './conversion-tasks/conversion-tasks.controller';
import { JobsAdminController } from './jobs/jobs.controller';
import { PeerSyncTimer } from './peers/peer-sync.timer';
import { PeersController } from './peers/peers.controller';
import { RegistriesController } from './registries/registries.controller';
import { TokensController } from './tokens/tokens.controller';
import { UsersController } from './users/users.controller';

/** The admin REST console under /api/v1 on :8080. */
@Module({
  imports: [
    DbModule,
    AuthModule,
    PreheatModule,
    DragonflyModule,
    ConvertModule,
    RegistryModule,
    ThrottlerModule.forRootAsync({
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => [{ name: 'signin', ttl: 60_000, limit: config.auth.signinPerMinute }],
    }),
  ],
  controllers: [
    UsersController,
    TokensController,
    InventoryController,
    RegistriesController,
    JobsAdminController,
    ConversionTasksController,
    AuditController,
    PeersController,
  ],
  providers: [InventoryAdminService, AuditRecorder, PeerSyncTimer],
  exports: [AuditRecorder],
})
export class AdminModule {}
