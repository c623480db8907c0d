import { GatewayConfig } from '@accel/config';
import { Global, LoggerService, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Logger as Pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { createLogger } from './logging';

/** A caller's X-Request-Id is kept when it is a plain token; otherwise the gateway makes one. */
const CALLER_ID = /^[\w.:-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CALLER_ID.test(given) ? given : randomUUID();
}

/** Nest's logger interface over the process's pino logger (the context becomes a field). */
export class GatewayLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  private write(level: 'debug' | 'info' | 'warn' | 'error', message: unknown, rest: unknown[]): void {
    // Nest passes the context last; an error's stack, when there is one, before it.
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    if (message instanceof Error) this.pino[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.pino[level]({ context, ...message });
    else this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
}

/**
 * Logs each HTTP answer once: at debug when it succeeds (Harbor polls constantly), warn when
 * refused, error when it fails. Only the path is logged: a query may carry a token.
 */
export function httpAnswerLogger(logger: GatewayLogger) {
  return pinoHttp({
    logger: logger.pino,
    genReqId: (req: IncomingMessage & { id?: unknown }) => (typeof req.id === 'string' ? req.id : requestIdOf(req)),
    // The request id comes from the mixin (every line has it), not from pino-http's binding.
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug',
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** The process's logger, built from the configuration (JSON lines with the request id, secrets redacted). */
@Global()
@Module({
  providers: [
    {
      provide: GatewayLogger,
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) =>
        new GatewayLogger(createLogger({ level: config.logLevel, format: config.logFormat, file: config.logFile })),
    },
  ],
  exports: [GatewayLogger],
})
export class GatewayLoggerModule {}
