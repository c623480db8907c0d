import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { ClusterInventory } from './cluster-inventory';
import { ClusterRepository } from './cluster.repository';
import { DragonflyClients } from './grpc-clients';
import { HostDirectory } from './host-directory';

@Module({
  imports: [DbModule],
  providers: [DragonflyClients, ClusterRepository, ClusterInventory, HostDirectory],
  exports: [DragonflyClients, ClusterRepository, ClusterInventory, HostDirectory],
})
export class DragonflyModule {}
