import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { ClusterInventory } from './cluster-inventory';
import { ClusterRepository } from './cluster.repository';
import { DragonflyClients } from './grpc-clients';

@Module({
  imports: [DbModule],
  providers: [DragonflyClients, ClusterRepository, ClusterInventory],
  exports: [DragonflyClients, ClusterRepository, ClusterInventory],
})
export class DragonflyModule {}
