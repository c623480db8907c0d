import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './env';

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = new Socket();
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });

async function waitPort(port: number, open: boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > end) throw new Error(`${what} did not ${open ? 'open' : 'close'} port ${port}`);
    await sleep(50);
  }
}

/** A process the test owns: started, stopped and started again on the same port, to inject an outage. */
abstract class PrivateService {
  protected proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), `accel-${this.constructor.name.toLowerCase()}-`));
  port = 0;
  protected abstract spawnArgs(): [string, string[]];
  protected prepare(): void {}

  /** Starts the service (again, on the same port and data); a no-op while it runs. */
  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) return;
    if (!this.port) {
      this.port = await freePort();
      this.prepare();
    }
    const [cmd, args] = this.spawnArgs();
    this.proc = spawn(cmd, args, { stdio: 'ignore' });
    await waitPort(this.port, true, cmd);
  }

  /** SIGTERM and wait for the port to close: the dependency is gone. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (p.exitCode === null) p.kill('SIGKILL');
    await waitPort(this.port, false, 'stopped service');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** redis-server without persistence: a restart loses every queue entry, as an outage can. */
export class PrivateRedis extends PrivateService {
  protected spawnArgs(): [string, string[]] {
    return [
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--save', '', '--appendonly', 'no'],
    ];
  }
}

/** A MariaDB server on its own data directory (root without password over TCP). */
export class PrivateMariaDb extends PrivateService {
  protected override prepare(): void {
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--user=${userName()}`,
        '--auth-root-authentication-method=normal',
      ],
      { stdio: 'ignore' },
    );
  }

  protected spawnArgs(): [string, string[]] {
    return [
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--socket=${join(this.dir, 'mysqld.sock')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--user=${userName()}`,
        '--skip-name-resolve',
        `--pid-file=${join(this.dir, 'mysqld.pid')}`,
      ],
    ];
  }
}

const userName = () => execFileSync('id', ['-un']).toString().trim();
