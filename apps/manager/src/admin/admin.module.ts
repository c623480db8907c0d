import { AuthModule } from '@accel/auth';
import { GatewayConfig } from '@accel/config';
import { ConvertModule } from '@accel/convert';
import { DbModule } from '@accel/db';
import { PreheatModule } from '@accel/preheat';
import { RegistryModule } from '@accel/registry';
import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { InventoryAdminService } from './admin.service';
import { AuditController, AuditRecorder } from './audit';
import { InventoryController } from './inventory.controller';
import { ConversionTasksController, JobsAdminController } from './jobs.controller';
import { RegistriesController } from './registries.controller';
import { TokensController } from './tokens.controller';
import { UsersController } from './users.controller';

/** The admin REST console under /api/v1 on :8080. */
@Module({
  imports: [
    DbModule,
    AuthModule,
    PreheatModule,
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
  ],
  providers: [InventoryAdminService, AuditRecorder],
  exports: [AuditRecorder],
})
export class AdminModule {}
