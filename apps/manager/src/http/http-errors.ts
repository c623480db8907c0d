import { UserFacingError } from '@accel/common';
import {
  ConflictException,
  HttpException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';

/** Seconds a client should wait before retrying when a dependency is down. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/** MySQL/MariaDB errors caused by the input: a 4xx naming the problem, never a 500. */
const INPUT_ERRORS: Record<string, string> = {
  ER_DATA_TOO_LONG: 'a value is longer than the gateway stores',
  ER_WARN_DATA_OUT_OF_RANGE: 'a number is out of range',
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: 'a value is not valid text',
  ER_TRUNCATED_WRONG_VALUE: 'a value has the wrong form',
  ER_BAD_NULL_ERROR: 'a required value is null',
};

/** Errors that mean the database or Redis cannot be reached right now. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/** What a thrown error means to the caller; undefined for a real internal error (500). */
export function toHttpException(err: unknown): HttpException | undefined {
  if (err instanceof HttpException) return err;
  if (err instanceof UserFacingError) return new UnprocessableEntityException({ errors: err.message });
  const code = errorCode(err);
  if (code === 'ER_DUP_ENTRY') return new ConflictException('a record with this name, host or id already exists');
  if (code && INPUT_ERRORS[code]) return new UnprocessableEntityException({ errors: INPUT_ERRORS[code] });
  if (code && UNAVAILABLE.has(code)) {
    return withRetryAfter(
      new ServiceUnavailableException('the gateway database is unavailable; try again shortly'),
      DEPENDENCY_RETRY_AFTER_SECONDS,
    );
  }
  return undefined;
}

/** A 429/503 that says when to come back (the filters send it as `Retry-After`). */
export function withRetryAfter<T extends HttpException>(e: T, seconds: number): T {
  return Object.assign(e, { retryAfterSeconds: seconds });
}

export function retryAfterOf(e: HttpException): number | undefined {
  const v = (e as HttpException & { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof v === 'number' ? v : undefined;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}
