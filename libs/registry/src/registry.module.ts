import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { RegistryAllowList } from './allow-list';
import { ImageResolver } from './image-resolver';
import { RegistryClient } from './registry-client';
import { RegistryStore } from './registry-store';

@Module({
  imports: [DbModule],
  providers: [RegistryStore, RegistryAllowList, RegistryClient, ImageResolver],
  exports: [RegistryStore, RegistryAllowList, RegistryClient, ImageResolver],
})
export class RegistryModule {}
