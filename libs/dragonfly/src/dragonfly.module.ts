import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { ClusterInventory } from './cluster-inventory';
import { ClusterRepository } from './cluster.repository';
import { DragonflyClients } from './grpc-clients';
import { HostDirectory } from './host-directory';
import { PeerSyncService } from './peer-sync.service';

@Module({
  imports: [DbModule],
  providers: [DragonflyClients, ClusterRepository, ClusterInventory, HostDirectory, PeerSyncService],
  exports: [DragonflyClients, ClusterRepository, ClusterInventory, HostDirectory, PeerSyncService],
})
export class DragonflyModule {}
