export * from './base.entity';
export * from './user.entity';
export * from './personal-access-token.entity';
export * from './cluster.entity';
export * from './job.entity';
export * from './conversion.entity';
export * from './console.entity';
export * from './peer.entity';

import { RevokedSessionEntity, UserEntity } from './user.entity';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';
import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from './cluster.entity';
import { JobEntity } from './job.entity';
import { ConversionTaskEntity, ConvertedLayerEntity } from './conversion.entity';
import { AuditEntity, RegistryEntity } from './console.entity';
import { PeerEntity } from './peer.entity';

export const ENTITIES = [
  UserEntity,
  RevokedSessionEntity,
  PersonalAccessTokenEntity,
  SchedulerClusterEntity,
  SchedulerEntity,
  SeedPeerEntity,
  JobEntity,
  ConversionTaskEntity,
  ConvertedLayerEntity,
  AuditEntity,
  RegistryEntity,
  PeerEntity,
];
