import { AuthModule } from '@accel/auth';
import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { InventoryAdminService } from './admin.service';

@Module({
  imports: [DbModule, AuthModule],
  controllers: [AdminController],
  providers: [InventoryAdminService],
})
export class AdminModule {}
