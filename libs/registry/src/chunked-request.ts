import { UserFacingError, describeError } from '@accel/common';
import { Agent as HttpAgent, IncomingHttpHeaders, ClientRequest, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { finished } from 'node:stream/promises';

export interface ChunkedResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** Reads the body to its end and drops it, so that the connection can be reused. */
  dump(): Promise<void>;
}

export interface ChunkedRequestOptions {
  method: 'PATCH' | 'PUT' | 'POST';
  headers: Record<string, string>;
  agent: HttpAgent | HttpsAgent;
  connectTimeoutMs: number;
  /** Longest stretch with no bytes moving either way, the wait for the response included. */
  idleTimeoutMs: number;
}

/** Keep-alive agents for chunked requests: plain, verified TLS, and TLS for registries marked insecure. */
export interface ChunkedAgents {
  http: HttpAgent;
  https: HttpsAgent;
  insecure: HttpsAgent;
}

export function chunkedAgents(): ChunkedAgents {
  return {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
    insecure: new HttpsAgent({ keepAlive: true, rejectUnauthorized: false }),
  };
}

/**
 * A request whose body goes out chunk by chunk (chunked transfer) without a copy: each write
 * settles once its bytes have been handed to the kernel, and only then may the caller reuse
 * their memory. undici acknowledges a body chunk when it is queued, not when it is sent, which
 * would force a copy of every chunk.
 */
export class ChunkedRequest {
  readonly response: Promise<ChunkedResponse>;
  private readonly req: ClientRequest;
  private readonly pending = new Set<(e?: Error | null) => void>();
  private readonly belowWaiters: { bytes: number; resolve(): void }[] = [];
  private error?: Error;
  private inFlight = 0;

  constructor(url: URL, opts: ChunkedRequestOptions) {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const unreachable = (e: unknown) =>
      e instanceof UserFacingError
        ? e
        : new UserFacingError(`registry ${url.host} is unreachable: ${describeError(e)}`);
    this.req = send(url, { method: opts.method, headers: opts.headers, agent: opts.agent });
    this.response = new Promise<ChunkedResponse>((resolve, reject) => {
      this.req.on('response', (res) =>
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: res.headers,
          dump: () => finished(res.resume()).catch(() => undefined),
        }),
      );
      this.req.on('error', (e) => {
        this.fail(unreachable(e));
        reject(this.error);
      });
      this.req.on('close', () => {
        this.fail(unreachable(new Error('connection closed')));
        reject(this.error);
      });
    });
    // Its failure is read through the writes or by whoever awaits the response: never unhandled.
    this.response.catch(() => undefined);
    this.req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(
        () => this.req.destroy(new Error(`connect timed out after ${opts.connectTimeoutMs} ms`)),
        opts.connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    this.req.setTimeout(opts.idleTimeoutMs, () =>
      this.req.destroy(new Error(`no bytes moved for ${Math.round(opts.idleTimeoutMs / 1000)} s`)),
    );
  }

  /** Bytes written but not yet handed to the kernel. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** Sends `chunk` as it is; settles once it has left this process (or the request failed). */
  write(chunk: Uint8Array): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (chunk.length === 0) return Promise.resolve();
    const length = chunk.length;
    this.inFlight += length;
    return new Promise<void>((resolve, reject) => {
      const settle = (e?: Error | null) => {
        if (!this.pending.delete(settle)) return;
        this.inFlight -= length;
        if (e) reject(this.error ?? e);
        else resolve();
        this.wakeBelow();
      };
      this.pending.add(settle);
      this.req.write(chunk, settle);
    });
  }

  /** Settles once no more than `bytes` are in flight (at once if the request has failed). */
  whenBelow(bytes: number): Promise<void> {
    if (this.inFlight <= bytes || this.error) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ bytes, resolve }));
  }

  end(): void {
    if (!this.error && !this.req.destroyed) this.req.end();
  }

  destroy(reason: Error): void {
    this.fail(reason);
    this.req.destroy(reason);
  }

  /** Pending writes whose callbacks the closed request will never call are failed here. */
  private fail(e: Error): void {
    this.error ??= e;
    for (const settle of [...this.pending]) settle(this.error);
    this.wakeBelow();
  }

  private wakeBelow(): void {
    for (let i = this.belowWaiters.length - 1; i >= 0; i--) {
      const w = this.belowWaiters[i];
      if (this.inFlight <= w.bytes || this.error) {
        this.belowWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}
