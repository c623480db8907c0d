import { QueueName } from '@accel/queue';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueBoardController } from './queue-board.controller';

@Module({
  imports: [
    BullModule.registerQueue(
      { name: QueueName.Preheat },
      { name: QueueName.SeedDownload },
      { name: QueueName.Convert },
    ),
  ],
  controllers: [QueueBoardController],
})
export class QueueBoardModule {}
