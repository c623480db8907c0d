import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { Logger as Pino } from 'pino';

const context = new AsyncLocalStorage<{ requestId: string }>();

/** The request id of the work this code runs for: an API call, or the queued job it started. */
export const currentRequestId = (): string | undefined => context.getStore()?.requestId;

/** Runs `fn` (and everything it starts) under a request id: every log line in it carries the id. */
export const withRequestId = <T>(requestId: string, fn: () => T): T => context.run({ requestId }, fn);

const PINO_LEVEL = { debug: 'debug', log: 'info', warn: 'warn', error: 'error' } as const;

/** Never written, wherever they appear in a logged object. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.authorization',
  '*.Authorization',
];

export interface LogOptions {
  level: keyof typeof PINO_LEVEL;
  /** json, pretty, or auto (pretty when a terminal is attached). */
  format: 'auto' | 'json' | 'pretty';
  /** Append JSON lines to this file instead of stdout. */
  file: string;
}

/** The process's logger: JSON lines with the request id, secrets redacted. */
export function createLogger(opts: LogOptions): Pino {
  const pretty = !opts.file && (opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY));
  return pino(
    {
      level: PINO_LEVEL[opts.level],
      base: { service: 'accel-gateway', pid: process.pid },
      // A request's own logger (pino-http's) has the id bound already.
      mixin: (_merge: object, _level: number, logger?: Pino) => {
        const requestId = currentRequestId();
        return requestId && !logger?.bindings().requestId ? { requestId } : {};
      },
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,service' } } } : {}),
    },
    pretty ? undefined : pino.destination({ dest: opts.file || 1, sync: false, mkdir: true }),
  );
}
