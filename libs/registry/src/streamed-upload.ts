import { once } from 'node:events';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Dispatcher } from 'undici';
import { readCapped } from './read-capped';

type Send = (
  method: 'PATCH' | 'PUT',
  url: string,
  init: { headers?: Record<string, string>; body?: Readable },
) => Promise<Dispatcher.ResponseData<unknown>>;
type Cancel = (url: string) => Promise<void>;
type Fail = (status: number, body: Buffer, what: string) => Error;

/** Bytes queued for the registry before a write waits for the connection. */
const QUEUE_BYTES = 4 << 20;

/**
 * A blob uploaded while it is being produced, for when its digest is known only at the end:
 * one streamed PATCH (chunked transfer, as `docker push` does) and a closing PUT ?digest=.
 * Nothing touches the disk; the registry checks the digest it was given.
 */
export class StreamedBlobUpload {
  private readonly body = new PassThrough({ highWaterMark: QUEUE_BYTES });
  private readonly patch: Promise<Dispatcher.ResponseData<unknown>>;
  private failed?: Error;
  private size = 0;

  constructor(
    private readonly location: URL,
    private readonly send: Send,
    private readonly cancel: Cancel,
    private readonly fail: Fail,
  ) {
    this.patch = send('PATCH', location.toString(), {
      headers: { 'content-type': 'application/octet-stream' },
      body: this.body,
    });
    // A refused or broken PATCH fails the next write instead of leaving it waiting for a drain.
    this.patch.then(
      (res) => {
        if (res.statusCode !== 202) this.failed ??= this.fail(res.statusCode, Buffer.alloc(0), 'blob upload');
      },
      (e: Error) => (this.failed ??= e),
    );
  }

  /** Queues a copy of `data` (the caller may reuse its memory as soon as this settles). */
  write(data: Uint8Array): Promise<void> {
    return this.queue(Buffer.from(data));
  }

  /** The upload as a Writable for stream producers (their buffers are theirs no more once written: no copy). */
  asWritable(): Writable {
    const out = new Writable({
      write: (chunk: Buffer, _encoding, done) => void this.queue(chunk).then(() => done(), done),
    });
    // A failed upload reaches the producer through its pending write or drain wait, and finish():
    // never as an unhandled 'error' event.
    out.on('error', () => undefined);
    return out;
  }

  private async queue(data: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.size += data.length;
    if (!this.body.write(data)) {
      await Promise.race([once(this.body, 'drain'), this.patch.then(() => undefined)]);
      if (this.failed) throw this.failed;
    }
  }

  /** Ends the stream and commits the blob under `digest`. */
  async finish(digest: string): Promise<number> {
    this.body.end();
    const res = await this.patch;
    await res.body.dump();
    if (this.failed) throw this.failed;
    const next = new URL(String(res.headers.location ?? this.location), this.location);
    next.searchParams.set('digest', digest);
    const put = await this.send('PUT', next.toString(), { headers: { 'content-length': '0' } });
    const text = await readCapped(put.body, 64 * 1024, 'upload');
    if (put.statusCode !== 201) throw this.fail(put.statusCode, text, `blob ${digest} upload`);
    return this.size;
  }

  /**
   * Gives the upload up; the registry drops what it received. The PATCH is ended rather than
   * cut: the registry then names the upload's current state, which its DELETE requires.
   */
  async abort(): Promise<void> {
    this.body.end();
    const res = await this.patch.catch(() => undefined);
    await res?.body.dump().catch(() => undefined);
    const current =
      res?.statusCode === 202 && res.headers.location
        ? new URL(String(res.headers.location), this.location)
        : this.location;
    await this.cancel(current.toString());
  }
}
