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

/** What the service says first on a new connection (after `send`, if given), or '' if nothing in 1 s. */
const greeting = (port: number, send?: string) =>
  new Promise<string>((resolve) => {
    const s = new Socket();
    const done = (text: string) => (s.destroy(), resolve(text));
    s.setTimeout(1000, () => done(''));
    s.once('error', () => done(''));
    s.once('data', (d) => done(d.toString('latin1')));
    s.connect(port, '127.0.0.1', () => send && s.write(send));
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

  /** Says `expect` once it serves, so a port another process took in the meantime is told apart. */
  protected abstract readonly probe: { send?: string; expect: string };

  /**
   * Starts the service (again, on the same port and data); a no-op while it runs. A port picked
   * free can be taken by another test file before the service binds it; then a new one is picked.
   */
  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) return;
    const fresh = !this.port;
    for (let attempt = 1; ; attempt++) {
      if (fresh) {
        this.port = await freePort();
        if (attempt === 1) this.prepare();
      }
      const why = await this.startOnce();
      if (why === undefined) return;
      if (!fresh || attempt === 5) throw new Error(`${this.spawnArgs()[0]} on port ${this.port}: ${why}`);
    }
  }

  private async startOnce(): Promise<string | undefined> {
    const [cmd, args] = this.spawnArgs();
    const proc = spawn(cmd, args, { stdio: 'ignore' });
    this.proc = proc;
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      if (proc.exitCode !== null || proc.signalCode !== null) return `exited with ${proc.exitCode ?? proc.signalCode}`;
      const said = await greeting(this.port, this.probe.send);
      if (said.includes(this.probe.expect)) return undefined;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    return 'did not answer in 30 s';
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
  protected readonly probe = { send: 'PING\r\n', expect: '+PONG' };
  protected spawnArgs(): [string, string[]] {
    return [
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--save', '', '--appendonly', 'no'],
    ];
  }
}

/** A MariaDB server on its own data directory (root without password over TCP). */
export class PrivateMariaDb extends PrivateService {
  protected readonly probe = { expect: 'MariaDB' };
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
