import { GatewayConfig } from '@accel/config';
import {
  GatewayLogger,
  GatewayMetrics,
  httpAnswerLogger,
  requestIdOf,
  serveMetrics,
  withRequestId,
} from '@accel/common';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AuditRecorder } from './admin/audit/audit.recorder';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { CONVERSION_ROUTE_PREFIXES } from './conversion/conversion-api.module';
import { bodyErrorHandler } from './http/body-errors';
import { bodyShapeGuard } from './http/body-shape';
import { DragonflyExceptionFilter } from './http/exception.filter';
import { portPartition } from './http/port-partition';
import { requestMetrics } from './http/request-metrics';
import { validationPipe } from './http/validation';
import { ManagerModule } from './manager.module';

export interface RunningManager {
  app: NestExpressApplication;
  port: number;
  conversionPort: number;
  close(): Promise<void>;
}

const listen = (server: Server, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });

/** Builds the manager and listens on the provider/admin port and the conversion port. */
export async function startManager(config: GatewayConfig): Promise<RunningManager> {
  const app = await NestFactory.create<NestExpressApplication>(ManagerModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  const logger = app.get(GatewayLogger);
  app.useLogger(logger);
  app.flushLogs();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  let conversionPort = -1;
  // First: every line logged for this request, and for the jobs it queues, carries its id.
  app.use((req: express.Request & { id?: string }, res: express.Response, next: express.NextFunction) => {
    const id = requestIdOf(req);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    withRequestId(id, next);
  });
  app.use(httpAnswerLogger(logger));
  app.use(portPartition(() => conversionPort, CONVERSION_ROUTE_PREFIXES));
  // Like gin's ShouldBindJSON, bodies are read as JSON whatever Content-Type says (or omits).
  app.use(express.json({ limit: config.server.bodyLimit, type: () => true }));
  const isConversionApi = (req: express.Request) => req.socket.localPort === conversionPort;
  const metrics = app.get(GatewayMetrics);
  if (config.metrics.enabled) app.use(requestMetrics(metrics, isConversionApi));
  app.use(bodyErrorHandler(config.server.bodyLimit, isConversionApi));
  app.use(bodyShapeGuard(isConversionApi));
  app.use(cookieParser());
  app.use(app.get(AuditRecorder).middleware());
  app.useGlobalPipes(validationPipe);
  app.useGlobalFilters(new DragonflyExceptionFilter());
  const openApi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Accel Gateway')
      .setDescription(
        'Harbor P2P preheat provider (Dragonfly v1/v2 and Kraken dialects), admin console API and acceld-compatible conversion API',
      )
      .setVersion('1')
      .addBearerAuth()
      .addBasicAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, openApi, { jsonDocumentUrl: 'api/docs-json' });
  await app.init();

  const handler = app.getHttpAdapter().getInstance();
  const main = createServer(handler);
  const conversion = createServer(handler);
  // Harbor's client gives up after 30 s; no request of ours should come near that.
  for (const s of [main, conversion]) s.requestTimeout = 25_000;
  const port = await listen(main, config.server.port, config.server.host);
  conversionPort = await listen(conversion, config.server.conversionPort, config.server.host);
  const metricsServer =
    config.metrics.enabled && config.metrics.port > 0
      ? await serveMetrics(metrics, {
          host: config.server.host,
          port: config.metrics.port,
          token: config.metrics.token,
        })
      : undefined;
  new Logger('Manager').log(
    `provider and admin API on ${config.server.host}:${port}, conversion API on ${config.server.host}:${conversionPort}${metricsServer ? `, metrics on ${config.server.host}:${metricsServer.port}` : ''}`,
  );
  return {
    app,
    port,
    conversionPort,
    async close() {
      await metricsServer?.close();
      await Promise.all(
        [main, conversion].map(
          (s) =>
            new Promise((r) => {
              s.closeAllConnections();
              s.close(r);
            }),
        ),
      );
      await app.close();
    },
  };
}
