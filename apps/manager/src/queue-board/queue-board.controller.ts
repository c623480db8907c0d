import { AdminRead, AdminWrite } from '@accel/auth';
import { QueueName } from '@accel/queue';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { InjectQueue } from '@nestjs/bullmq';
import { All, Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Queue } from 'bullmq';
import { NextFunction, Request, Response, Router } from 'express';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * bull-board for operators, behind the admin auth: its pages and reads for console users and
 * admin tokens, its actions (retry, promote, clean, remove) for root only.
 */
@ApiExcludeController()
@Controller(QUEUE_BOARD_PATH.slice(1))
export class QueueBoardController {
  private readonly router: Router;

  constructor(
    @InjectQueue(QueueName.Preheat) preheat: Queue,
    @InjectQueue(QueueName.SeedDownload) downloads: Queue,
    @InjectQueue(QueueName.Convert) convert: Queue,
  ) {
    const adapter = new ExpressAdapter().setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: [preheat, downloads, convert].map((q) => new BullMQAdapter(q)),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'Accel Gateway queues' } },
    });
    this.router = adapter.getRouter() as Router;
  }

  @Get(['', '{/*path}'])
  @AdminRead()
  read(@Req() req: Request, @Res() res: Response): void {
    this.forward(req, res);
  }

  @All(['', '{/*path}'])
  @AdminWrite()
  change(@Req() req: Request, @Res() res: Response): void {
    this.forward(req, res);
  }

  /** The board's own router, with the URL as it expects it (relative to its base path). */
  private forward(req: Request, res: Response): void {
    const url = req.originalUrl.slice(QUEUE_BOARD_PATH.length) || '/';
    const next: NextFunction = () => res.status(404).json({ message: 'record not found' });
    this.router(Object.assign(req, { url, baseUrl: QUEUE_BOARD_PATH }), res, next);
  }
}
