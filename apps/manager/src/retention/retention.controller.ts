import { AdminWrite } from '@accel/auth';
import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RetentionService } from './retention.service';

/** An on-demand purge, for operators who lowered a TTL and want the rows gone now. */
@ApiTags('operations')
@Controller('api/v1/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Post('purge')
  @HttpCode(200)
  @AdminWrite()
  async purge() {
    const removed = await this.retention.purge();
    return { removed: { jobs: removed.jobs, conversion_tasks: removed.conversionTasks, audits: removed.audits } };
  }
}
