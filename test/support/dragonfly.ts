import { computeTaskId, loadDragonflyProtos } from '@accel/dragonfly';
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { Agent, interceptors, request } from 'undici';

const follow = new Agent().compose(interceptors.redirect({ maxRedirections: 3 }));

type GrpcNs = Record<string, Record<string, Record<string, grpc.ServiceClientConstructor>>>;
const protos = () =>
  loadDragonflyProtos() as unknown as GrpcNs & { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };

export interface FetchRecord {
  url: string;
  taskId: string;
  authorization?: string;
  status: number;
  bytes: number;
  digestOk: boolean;
  cached: boolean;
}

async function bind(server: grpc.Server, address = '127.0.0.1:0'): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
}

const timestamp = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

function healthImpl(isUp: () => boolean) {
  return {
    Check: (_: unknown, cb: grpc.sendUnaryData<{ status: string }>) =>
      cb(null, { status: isUp() ? 'SERVING' : 'NOT_SERVING' }),
  };
}

/**
 * Reference Dragonfly seed peer: serves dfdaemon.v2.DfdaemonUpload/DownloadTask from the
 * gateway's protos, computes the task id as the Rust dfdaemon does, really GETs the URL with
 * the request headers, verifies the blob digest and streams started/piece responses.
 */
export class ReferenceSeedPeer {
  private server?: grpc.Server;
  port = 0;
  readonly fetches: FetchRecord[] = [];
  readonly requests: { download: Record<string, unknown> }[] = [];
  private readonly cached = new Map<string, number>();
  private readonly cachedAt = new Map<string, number>();
  /** Task ids asked about (StatLocalTask) and evicted (DeleteTask), in order. */
  readonly stats: string[] = [];
  readonly deletes: string[] = [];
  /** Makes every download fail with this gRPC status and message. */
  failWith?: { code: grpc.status; message: string };
  /** Delays each download (to observe concurrency and sharing). */
  delayMs = 0;
  /** Downloads in progress now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly hostname: string,
    readonly ip = '127.0.0.1',
  ) {}

  get hostId(): string {
    return `${this.ip}-${this.hostname}-seed`;
  }

  /** Starts (or restarts) the peer; a restarted peer has an empty cache, as a real one without persistent storage. */
  async start(port = 0): Promise<void> {
    this.cached.clear();
    const server = new grpc.Server();
    const p = protos();
    server.addService(p.dfdaemon.v2.DfdaemonUpload.service, {
      DownloadTask: (call: grpc.ServerWritableStream<{ download: Record<string, unknown> }, unknown>) =>
        void this.download(call),
      StatLocalTask: (call: grpc.ServerUnaryCall<{ task_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.stats.push(call.request.task_id);
        if (this.failWith) return cb({ code: this.failWith.code, details: this.failWith.message });
        const bytes = this.cached.get(call.request.task_id);
        if (bytes === undefined)
          return cb({ code: grpc.status.NOT_FOUND, details: `task ${call.request.task_id} not found` });
        const at = timestamp(this.cachedAt.get(call.request.task_id) ?? Date.now());
        cb(null, {
          task_id: call.request.task_id,
          content_length: bytes,
          created_at: at,
          updated_at: at,
          finished_at: at,
        });
      },
      DeleteTask: (call: grpc.ServerUnaryCall<{ task_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (this.failWith) return cb({ code: this.failWith.code, details: this.failWith.message });
        this.deletes.push(call.request.task_id);
        this.cached.delete(call.request.task_id);
        cb(null, {});
      },
    });
    server.addService(
      p.grpc.health.v1.Health.service,
      healthImpl(() => true),
    );
    this.port = await bind(server, `${this.ip}:${port}`);
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    // Give running downloads a moment, then cut them off (a stopped seed peer, as in production).
    const graceful = new Promise<void>((r) => s.tryShutdown(() => r()));
    await Promise.race([graceful, new Promise((r) => setTimeout(r, 1000))]);
    s.forceShutdown();
  }

  private async download(
    call: grpc.ServerWritableStream<{ download: Record<string, unknown> }, unknown>,
  ): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.serve(call);
    } finally {
      this.inFlight--;
    }
  }

  private async serve(call: grpc.ServerWritableStream<{ download: Record<string, unknown> }, unknown>): Promise<void> {
    const d = call.request.download as {
      url: string;
      tag?: string;
      application?: string;
      piece_length?: number;
      filtered_query_params: string[];
      request_header: Record<string, string>;
    };
    this.requests.push(call.request);
    const taskId = computeTaskId({
      url: d.url,
      tag: d.tag,
      application: d.application,
      pieceLength: d.piece_length || undefined,
      filteredQueryParams: d.filtered_query_params,
    });
    const peerId = `${this.ip}-${this.hostname}-${createHash('md5').update(String(Math.random())).digest('hex')}-seed`;
    const base = { host_id: this.hostId, task_id: taskId, peer_id: peerId };
    const fail = (code: grpc.status, details: string, backend?: object) => {
      const metadata = new grpc.Metadata();
      if (backend) metadata.set('grpc-status-details-bin', Buffer.from(JSON.stringify(backend)));
      call.emit('error', { code, details, metadata });
    };
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) return fail(this.failWith.code, this.failWith.message);
    const known = this.cached.get(taskId);
    if (known !== undefined) {
      this.fetches.push({ url: d.url, taskId, status: 0, bytes: 0, digestOk: true, cached: true });
      call.write({
        ...base,
        download_task_started_response: { content_length: known, is_finished: true, pieces: [], response_header: {} },
      });
      call.end();
      return;
    }
    const record: FetchRecord = {
      url: d.url,
      taskId,
      authorization: d.request_header.Authorization ?? d.request_header.authorization,
      status: 0,
      bytes: 0,
      digestOk: false,
      cached: false,
    };
    this.fetches.push(record);
    try {
      const res = await request(d.url, { headers: d.request_header, dispatcher: follow });
      record.status = res.statusCode;
      if (res.statusCode !== 200) {
        const text = await res.body.text();
        return fail(grpc.status.INTERNAL, `backend error ${res.statusCode}`, {
          message: text.slice(0, 200),
          header: {},
          status_code: res.statusCode,
        });
      }
      const length = Number(res.headers['content-length'] ?? 0);
      call.write({
        ...base,
        download_task_started_response: { content_length: length, is_finished: false, pieces: [], response_header: {} },
      });
      const pieceLength = d.piece_length || 4 * 1024 * 1024;
      const hash = createHash('sha256');
      let inPiece = 0;
      let number = 0;
      let offset = 0;
      const finishPiece = () => {
        call.write({
          ...base,
          download_piece_finished_response: { piece: { number, offset, length: inPiece, digest: '' } },
        });
        offset += inPiece;
        number++;
        inPiece = 0;
      };
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        record.bytes += (chunk as Buffer).length;
        inPiece += (chunk as Buffer).length;
        while (inPiece >= pieceLength) {
          const extra = inPiece - pieceLength;
          inPiece = pieceLength;
          finishPiece();
          inPiece = extra;
        }
      }
      if (inPiece > 0 || number === 0) finishPiece();
      const want = /\/blobs\/(sha256:[a-f0-9]{64})/.exec(d.url)?.[1];
      const got = `sha256:${hash.digest('hex')}`;
      record.digestOk = !want || want === got;
      if (!record.digestOk) return fail(grpc.status.INTERNAL, `digest mismatch: want ${want}, got ${got}`);
      this.cached.set(taskId, record.bytes);
      this.cachedAt.set(taskId, Date.now());
      call.end();
    } catch (e) {
      fail(grpc.status.INTERNAL, `back-to-source failed: ${(e as Error).message}`, {
        message: (e as Error).message,
        header: {},
      });
    }
  }
}

export interface HostSpec {
  hostname: string;
  ip: string;
  port: number;
  type: 0 | 1;
}

/** Reference scheduler: answers scheduler.v2.Scheduler/ListHosts with the hosts it is given, and health checks. */
export class ReferenceScheduler {
  private server?: grpc.Server;
  port = 0;
  hosts: HostSpec[] = [];
  listCalls = 0;

  async start(): Promise<void> {
    const server = new grpc.Server();
    const p = protos();
    server.addService(p.scheduler.v2.Scheduler.service, {
      ListHosts: (_: unknown, cb: grpc.sendUnaryData<unknown>) => {
        this.listCalls++;
        cb(null, {
          hosts: this.hosts.map((h) => ({
            id: `${h.ip}-${h.hostname}${h.type === 1 ? '-seed' : ''}`,
            type: h.type,
            hostname: h.hostname,
            ip: h.ip,
            port: h.port,
            download_port: h.port,
          })),
        });
      },
    });
    server.addService(
      p.grpc.health.v1.Health.service,
      healthImpl(() => true),
    );
    this.port = await bind(server);
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s) await new Promise<void>((r) => s.tryShutdown(() => r()));
  }
}
