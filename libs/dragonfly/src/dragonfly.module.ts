import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { ClusterInventory } from './cluster-inventory';
import { DragonflyClients } from './grpc-clients';

@Module({
  imports: [DbModule],
  providers: [DragonflyClients, ClusterInventory],
  exports: [DragonflyClients, ClusterInventory],
})
export class DragonflyModule {}
