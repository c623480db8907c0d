import { Readable, Writable } from 'node:stream';
import { Dispatcher } from 'undici';
import { ChunkedRequest } from './chunked-request';
import { readCapped } from './read-capped';

type Open = (url: string) => ChunkedRequest;
type Send = (
  method: 'PUT',
  url: string,
  init: { headers?: Record<string, string>; body?: Readable },
) => Promise<Dispatcher.ResponseData<unknown>>;
type Cancel = (url: string) => Promise<void>;
type Fail = (status: number, body: Buffer, what: string) => Error;

/** Bytes a stream producer may have on their way to the registry before its writes wait. */
const QUEUE_BYTES = 4 << 20;

/**
 * A blob uploaded while it is being produced, for when its digest is known only at the end:
 * one streamed PATCH (chunked transfer, as `docker push` does) and a closing PUT ?digest=.
 * Nothing touches the disk and nothing is copied; the registry checks the digest it was given.
 */
export class StreamedBlobUpload {
  private readonly patch: ChunkedRequest;
  private failed?: Error;
  private size = 0;

  constructor(
    private readonly location: URL,
    open: Open,
    private readonly send: Send,
    private readonly cancel: Cancel,
    private readonly fail: Fail,
  ) {
    this.patch = open(location.toString());
    // A refused PATCH stops at once and fails the pending and next writes with the registry's answer.
    this.patch.response.then(
      (res) => {
        if (res.statusCode === 202) return;
        this.failed ??= this.fail(res.statusCode, Buffer.alloc(0), 'blob upload');
        this.patch.destroy(this.failed);
      },
      (e: Error) => (this.failed ??= e),
    );
  }

  /** Sends `data` without a copy: settles once it has left, when the caller may reuse its memory. */
  write(data: Uint8Array): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    this.size += data.length;
    return this.patch.write(data).catch((e: Error) => {
      throw this.failed ?? e;
    });
  }

  /** The upload as a Writable for stream producers (their buffers are theirs no more once written). */
  asWritable(): Writable {
    const out = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.write(chunk).catch(() => undefined);
        // Up to QUEUE_BYTES travel while the producer goes on; a failure reaches it on its next write.
        void this.patch.whenBelow(QUEUE_BYTES).then(() => done(this.failed));
      },
    });
    // A failed upload reaches the producer through its pending write or drain wait, and finish():
    // never as an unhandled 'error' event.
    out.on('error', () => undefined);
    return out;
  }

  /** Ends the stream and commits the blob under `digest`. */
  async finish(digest: string): Promise<number> {
    this.patch.end();
    const res = await this.patch.response.catch((e: Error) => {
      throw this.failed ?? e;
    });
    await res.dump();
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
    this.patch.end();
    const res = await this.patch.response.catch(() => undefined);
    await res?.dump();
    const current =
      res?.statusCode === 202 && res.headers.location
        ? new URL(String(res.headers.location), this.location)
        : this.location;
    await this.cancel(current.toString());
  }
}
