import { AbstractConnector } from 'ioredis';
import { Socket, createConnection } from 'node:net';

/** The connection fields the gateway's Redis options carry (see redisConnection). */
interface ConnectTo {
  host?: string;
  port?: number;
  family?: number;
}

/**
 * A Redis connection whose commands issued in one turn of the event loop leave in one socket
 * write. ioredis writes every command on its own; on a busy worker each write is a syscall
 * that crosses the whole loopback TCP path (a fan-out spent 18 % of its CPU there). The socket
 * is corked at a turn's first write and uncorked when the turn ends, so the bytes, their order
 * and ioredis's own bookkeeping are exactly what they were; only the number of writes changes.
 * (ioredis's auto-pipelining would batch too, but rewrites how commands are sent, and BullMQ
 * users report lost job data with it.)
 */
export class CoalescingConnector extends AbstractConnector {
  private readonly options: ConnectTo;

  /** ioredis passes its whole option set, defaults filled in. */
  constructor(options: unknown) {
    const o = options as ConnectTo & { disconnectTimeout?: number };
    super(o.disconnectTimeout ?? 2000);
    this.options = o;
  }

  connect(): Promise<Socket> {
    this.connecting = true;
    return new Promise((resolve, reject) => {
      // As ioredis's own connector: a disconnect() before this tick means no connection at all.
      process.nextTick(() => {
        if (!this.connecting) return reject(new Error('Connection is closed.'));
        const socket = createConnection({
          host: this.options.host,
          port: this.options.port ?? 6379,
          family: this.options.family,
        });
        socket.once('error', (e) => (this.firstError = e));
        coalesceWrites(socket);
        this.stream = socket;
        resolve(socket);
      });
    });
  }
}

/** Writes made before the event loop's check phase go out together, in one writev. */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return write(...args);
  }) as Socket['write'];
}
