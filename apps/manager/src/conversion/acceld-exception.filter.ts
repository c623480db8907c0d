import { UserFacingError } from '@accel/common';
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { Response } from 'express';
import { retryAfterOf, toHttpException } from '../http/http-errors';

const CODES: Record<number, string> = {
  400: 'ERR_ILLEGAL_PARAMETER',
  401: 'ERR_UNAUTHORIZED',
  403: 'ERR_UNAUTHORIZED',
  404: 'ERR_INVALID_ENDPOINT',
  409: 'ERR_ILLEGAL_PARAMETER',
  413: 'ERR_ILLEGAL_PARAMETER',
  422: 'ERR_ILLEGAL_PARAMETER',
  429: 'ERR_UNAUTHORIZED',
};

export const acceldError = (status: number, message: string) => ({
  code: CODES[status] ?? 'ERR_CONVERT_FAILED',
  message,
});

/** acceld's error shape on the conversion API: `{"code": "ERR_…", "message": "…"}`. */
@Catch()
export class AcceldExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('ConversionAPI');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (err instanceof UserFacingError) {
      res.status(400).json(acceldError(400, err.message));
      return;
    }
    const http = toHttpException(err);
    if (http) {
      const body = http.getResponse();
      const message =
        typeof body === 'string'
          ? body
          : String(
              (body as { message?: unknown; errors?: unknown }).message ??
                (body as { errors?: unknown }).errors ??
                http.message,
            );
      const retryAfter = retryAfterOf(http);
      if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
      res.status(http.getStatus()).json(acceldError(http.getStatus(), message));
      return;
    }
    this.log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(500).json(acceldError(500, 'internal error; see the gateway log'));
  }
}
