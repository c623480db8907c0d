export * from './base.entity';
export * from './user.entity';
export * from './personal-access-token.entity';
export * from './cluster.entity';
export * from './job.entity';

import { UserEntity } from './user.entity';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';
import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from './cluster.entity';
import { JobEntity } from './job.entity';

export const ENTITIES = [
  UserEntity,
  PersonalAccessTokenEntity,
  SchedulerClusterEntity,
  SchedulerEntity,
  SeedPeerEntity,
  JobEntity,
];
