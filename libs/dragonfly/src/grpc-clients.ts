import * as grpc from '@grpc/grpc-js';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DownloadMessage, DownloadTaskResponseMessage, HostMessage, LocalTaskMessage } from './messages';
import { serviceCtor } from './proto';

export interface NodeAddress {
  hostname: string;
  ip: string;
  port: number;
}

export interface DownloadOutcome {
  taskId: string;
  hostId: string;
  peerId: string;
  contentLength: number;
  pieces: number;
  /** The peer had the whole task already (nothing was downloaded). */
  cached: boolean;
}

export interface DownloadLimits {
  /** The whole call (the job's remaining time). */
  deadlineMs: number;
  /** Establishing the channel. */
  connectMs: number;
  /** Longest silence between two stream messages. */
  idleMs: number;
}

/** A DownloadTask or health failure, with a message a person can act on. */
export class PeerError extends Error {
  constructor(
    message: string,
    readonly code?: grpc.status,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

const addressOf = (n: NodeAddress): string => (n.ip.includes(':') ? `[${n.ip}]:${n.port}` : `${n.ip}:${n.port}`);

/** Back-to-source failures arrive as serde JSON of errordetails.v2.Backend in grpc-status-details-bin. */
export function backendDetail(err: grpc.ServiceError): string | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')?.[0];
  if (!raw) return undefined;
  try {
    const b = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw)) as {
      message?: string;
      status_code?: number;
    };
    const status = b.status_code ? `origin answered HTTP ${b.status_code}` : 'origin request failed';
    return b.message ? `${status}: ${b.message}` : status;
  } catch {
    return undefined;
  }
}

export function describePeerError(node: NodeAddress, err: grpc.ServiceError): PeerError {
  const who = `${node.hostname} (${addressOf(node)})`;
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      return new PeerError(`peer ${who} is unreachable: ${err.details || err.message}`, err.code);
    case grpc.status.DEADLINE_EXCEEDED:
      return new PeerError(`peer ${who} did not finish before the job timeout`, err.code);
    case grpc.status.UNIMPLEMENTED:
      return new PeerError(
        `peer ${who} does not serve dfdaemon.v2 DownloadTask (a Dragonfly client older than v0.1?)`,
        err.code,
      );
    default: {
      const detail = backendDetail(err);
      return new PeerError(`peer ${who} failed the download: ${detail ?? (err.details || err.message)}`, err.code);
    }
  }
}

/** One grpc-js channel per address, shared by every call to it. */
@Injectable()
export class DragonflyClients implements OnApplicationShutdown {
  private readonly clients = new Map<string, grpc.Client>();

  private client(service: string, node: NodeAddress): grpc.Client {
    const key = `${service}@${addressOf(node)}`;
    let c = this.clients.get(key);
    if (!c) {
      const Ctor = serviceCtor(service);
      c = new Ctor(addressOf(node), grpc.credentials.createInsecure(), {
        'grpc.keepalive_time_ms': 30_000,
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        'grpc.initial_reconnect_backoff_ms': 500,
        'grpc.max_reconnect_backoff_ms': 5_000,
      });
      this.clients.set(key, c);
    }
    return c;
  }

  /**
   * Drops the channels to a node that failed to connect: a fresh channel dials at once, where
   * the old one would wait out its reconnect backoff after the node comes back.
   */
  private forget(node: NodeAddress): void {
    const suffix = `@${addressOf(node)}`;
    for (const [key, client] of this.clients) {
      if (key.endsWith(suffix)) {
        client.close();
        this.clients.delete(key);
      }
    }
  }

  /**
   * Resolves once the channel to `node` is connected. A refused connection fails at once (as
   * unreachable); one that neither connects nor fails — a peer that accepts TCP and never
   * speaks HTTP/2 — fails after `timeoutMs`.
   */
  private connected(client: grpc.Client, node: NodeAddress, timeoutMs: number): Promise<void> {
    const channel = client.getChannel();
    const deadline = Date.now() + timeoutMs;
    const who = `${node.hostname} (${addressOf(node)})`;
    return new Promise((resolve, reject) => {
      const check = () => {
        const state = channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY) return resolve();
        if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
          this.forget(node);
          return reject(
            new PeerError(`peer ${who} is unreachable: the gRPC connection failed`, grpc.status.UNAVAILABLE),
          );
        }
        channel.watchConnectivityState(state, deadline, (err) => {
          if (!err) return check();
          this.forget(node);
          reject(
            new PeerError(
              `peer ${who} did not accept a gRPC connection within ${timeoutMs} ms`,
              grpc.status.UNAVAILABLE,
            ),
          );
        });
      };
      check();
    });
  }

  /**
   * Calls dfdaemon.v2.DfdaemonUpload/DownloadTask and follows the stream to its end. Three
   * deadlines: connecting, the whole call, and silence between two messages — a peer that
   * accepts TCP but never answers must not hold a job until its timeout.
   */
  async downloadTask(node: NodeAddress, download: DownloadMessage, limits: DownloadLimits): Promise<DownloadOutcome> {
    type Upload = grpc.Client & {
      DownloadTask(req: unknown, opts: grpc.CallOptions): grpc.ClientReadableStream<DownloadTaskResponseMessage>;
    };
    const client = this.client('dfdaemon.v2.DfdaemonUpload', node) as Upload;
    await this.connected(client, node, Math.min(limits.connectMs, limits.deadlineMs));
    return new Promise((resolve, reject) => {
      const outcome: DownloadOutcome = {
        taskId: '',
        hostId: '',
        peerId: '',
        contentLength: 0,
        pieces: 0,
        cached: false,
      };
      const call = client.DownloadTask({ download }, { deadline: new Date(Date.now() + limits.deadlineMs) });
      let frozen = false;
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          frozen = true;
          call.cancel();
          const what = outcome.taskId ? `after ${outcome.pieces} piece(s)` : 'since the request';
          reject(
            new PeerError(
              `peer ${node.hostname} (${addressOf(node)}) sent nothing for ${limits.idleMs} ms ${what}; the download was abandoned`,
              grpc.status.DEADLINE_EXCEEDED,
            ),
          );
        }, limits.idleMs);
        idle.unref();
      };
      arm();
      call.on('data', (msg: DownloadTaskResponseMessage) => {
        arm();
        outcome.taskId ||= msg.task_id;
        outcome.hostId = msg.host_id || outcome.hostId;
        outcome.peerId ||= msg.peer_id;
        if (msg.download_task_started_response) {
          outcome.contentLength = Number(msg.download_task_started_response.content_length);
          outcome.cached = msg.download_task_started_response.is_finished;
        } else if (msg.download_piece_finished_response) {
          outcome.pieces++;
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        clearTimeout(idle);
        if (frozen) return;
        if (err.code === grpc.status.UNAVAILABLE) this.forget(node);
        reject(describePeerError(node, err));
      });
      call.on('end', () => {
        clearTimeout(idle);
        resolve(outcome);
      });
    });
  }

  /** grpc.health.v1 Check with service "" (what the scheduler asks seed peers). */
  checkHealth(node: NodeAddress, timeoutMs: number): Promise<boolean> {
    type Health = grpc.Client & {
      Check(
        req: unknown,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
      ): void;
    };
    return new Promise((resolve) => {
      let client: Health;
      try {
        client = this.client('grpc.health.v1.Health', node) as Health;
      } catch {
        // An address grpc cannot even parse is simply not healthy.
        return resolve(false);
      }
      client.Check({ service: '' }, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (err) this.forget(node);
        resolve(!err && res?.status === 'SERVING');
      });
    });
  }

  /** scheduler.v2.Scheduler/ListHosts: every host the scheduler knows. */
  listHosts(node: NodeAddress, timeoutMs: number): Promise<HostMessage[]> {
    type Scheduler = grpc.Client & {
      ListHosts(
        req: unknown,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res?: { hosts: HostMessage[] }) => void,
      ): void;
    };
    return new Promise((resolve, reject) => {
      const client = this.client('scheduler.v2.Scheduler', node) as Scheduler;
      client.ListHosts({}, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (err) {
          if (err.code === grpc.status.UNAVAILABLE) this.forget(node);
          reject(
            new PeerError(
              `scheduler ${node.hostname} (${addressOf(node)}) could not list hosts: ${err.details || err.message}`,
              err.code,
            ),
          );
        } else resolve(res?.hosts ?? []);
      });
    });
  }

  /**
   * dfdaemon.v2.DfdaemonUpload/StatLocalTask: what `node` holds of a task, or undefined when it
   * holds nothing (NOT_FOUND). Any other failure is thrown with a readable reason.
   */
  statLocalTask(node: NodeAddress, taskId: string, timeoutMs: number): Promise<LocalTaskMessage | undefined> {
    return this.unary<LocalTaskMessage | undefined>(
      node,
      'StatLocalTask',
      { task_id: taskId },
      timeoutMs,
      'stat',
    ).catch((e: PeerError) => {
      if (e.code === grpc.status.NOT_FOUND) return undefined;
      throw e;
    });
  }

  /** dfdaemon.v2.DfdaemonUpload/DeleteTask: evicts a task from `node`. */
  async deleteTask(node: NodeAddress, taskId: string, timeoutMs: number): Promise<void> {
    await this.unary(node, 'DeleteTask', { task_id: taskId }, timeoutMs, 'delete');
  }

  private unary<T>(node: NodeAddress, method: string, req: unknown, timeoutMs: number, what: string): Promise<T> {
    type Unary = (req: unknown, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => void;
    const client = this.client('dfdaemon.v2.DfdaemonUpload', node) as grpc.Client & Record<string, Unary>;
    return new Promise((resolve, reject) => {
      client[method].call(client, req, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (!err) return resolve(res as T);
        if (err.code === grpc.status.UNAVAILABLE) this.forget(node);
        const who = `${node.hostname} (${addressOf(node)})`;
        const reason =
          err.code === grpc.status.UNAVAILABLE
            ? `peer ${who} is unreachable: ${err.details || err.message}`
            : err.code === grpc.status.DEADLINE_EXCEEDED
              ? `peer ${who} did not answer ${method} within ${timeoutMs} ms`
              : err.code === grpc.status.UNIMPLEMENTED
                ? `peer ${who} does not serve dfdaemon.v2 ${method} (a Dragonfly client older than v1.0?)`
                : `peer ${who} could not ${what} the task: ${err.details || err.message}`;
        reject(new PeerError(reason, err.code));
      });
    });
  }

  /** After the processors have drained: downloads in flight keep their channels. */
  onApplicationShutdown(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
