import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { RegistryAccess } from './registry-access';
import { ImageResolver } from './image-resolver';
import { RegistryClient } from './registry-client';
import { RegistryStore } from './registry-store';

@Module({
  imports: [DbModule],
  providers: [RegistryStore, RegistryAccess, RegistryClient, ImageResolver],
  exports: [RegistryStore, RegistryAccess, RegistryClient, ImageResolver],
})
export class RegistryModule {}
