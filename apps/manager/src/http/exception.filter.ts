import { UnknownClusterError } from '@accel/dragonfly';
import { JobRateLimited } from '@accel/preheat';
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { Response } from 'express';
import { retryAfterOf, toHttpException } from './http-errors';

/**
 * Errors in the Dragonfly manager's shapes: 422 `{"errors"}` for bad input, `{"message"}`
 * otherwise. Bad input from the caller (a URL that is no manifest URL, a refused registry)
 * is a 422, never a 500.
 */
@Catch()
export class DragonflyExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (err instanceof JobRateLimited) {
      // As Dragonfly's middleware answers it: plain text.
      res.status(429).setHeader('Retry-After', String(err.retryAfterSeconds));
      res.type('text/plain').send(err.message);
      return;
    }
    if (err instanceof UnknownClusterError) {
      res.status(404).json({ message: err.message });
      return;
    }
    const http = toHttpException(err);
    if (http) {
      const body = http.getResponse();
      const status = http.getStatus();
      const retryAfter = retryAfterOf(http);
      if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
      if (typeof body === 'object' && body !== null && 'errors' in body) {
        res.status(status).json({ errors: (body as { errors: unknown }).errors });
      } else {
        const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? http.message);
        res.status(status).json({ message: Array.isArray(message) ? message.join('; ') : message });
      }
      return;
    }
    this.log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(500).json({ message: 'internal error; see the gateway log' });
  }
}
