import { UserFacingError } from '@accel/common';
import { Readable } from 'node:stream';

/**
 * Reads a response body, refusing one larger than `limit` bytes or one that takes longer than
 * `deadlineMs` in all (a registry trickling a byte at a time never trips an idle timeout).
 */
export async function readCapped(body: Readable, limit: number, what: string, deadlineMs = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let late = false;
  const timer = deadlineMs > 0 ? setTimeout(() => ((late = true), body.destroy()), deadlineMs) : undefined;
  timer?.unref();
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        throw new UserFacingError(`${what} is larger than ${limit} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (late)
      throw new UserFacingError(
        `${what}: the registry sent ${size} bytes in ${deadlineMs} ms and did not finish (too slow or stalled)`,
      );
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (late)
    throw new UserFacingError(
      `${what}: the registry sent ${size} bytes in ${deadlineMs} ms and did not finish (too slow or stalled)`,
    );
  return Buffer.concat(chunks);
}
