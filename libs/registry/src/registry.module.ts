import { Module } from '@nestjs/common';
import { RegistryAllowList } from './allow-list';
import { ImageResolver } from './image-resolver';
import { RegistryClient } from './registry-client';

@Module({
  providers: [RegistryAllowList, RegistryClient, ImageResolver],
  exports: [RegistryAllowList, RegistryClient, ImageResolver],
})
export class RegistryModule {}
