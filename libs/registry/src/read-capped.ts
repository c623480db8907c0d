import { UserFacingError } from '@accel/common';
import { Readable } from 'node:stream';

/** Reads a response body, refusing one larger than `limit` bytes. */
export async function readCapped(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new UserFacingError(`${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
