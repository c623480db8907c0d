import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './env';

const run = promisify(execFile);

/** A private containerd (root, state and socket under a temp dir), driven with `ctr` and `ctr-remote`. */
export class PrivateContainerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'accel-containerd-'));
  readonly socket = join(this.dir, 'containerd.sock');
  private proc?: ChildProcess;
  private readonly log: string[] = [];

  async start(): Promise<void> {
    const config = join(this.dir, 'config.toml');
    writeFileSync(
      config,
      [
        'version = 2',
        `root = "${join(this.dir, 'root')}"`,
        `state = "${join(this.dir, 'state')}"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
        '[grpc]',
        `  address = "${this.socket}"`,
        '[ttrpc]',
        `  address = "${this.socket}.ttrpc"`,
        '[debug]',
        `  address = "${this.socket}.debug"`,
        '[metrics]',
        '  address = ""',
      ].join('\n'),
    );
    this.proc = spawn('containerd', ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (c: Buffer) => this.log.push(c.toString()));
    for (let i = 0; i < 100; i++) {
      try {
        await this.ctr('version');
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`containerd did not start: ${this.log.join('').slice(-2000)}`);
  }

  ctr(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run('ctr', ['--address', this.socket, ...args], { maxBuffer: 64 * 1024 * 1024 });
  }

  ctrRemote(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run('ctr-remote', ['--address', this.socket, ...args], { maxBuffer: 64 * 1024 * 1024 });
  }

  /** A blob from the content store. */
  async content(digest: string): Promise<Buffer> {
    const out = await promisify(execFile)('ctr', ['--address', this.socket, 'content', 'get', digest], {
      encoding: 'buffer',
      maxBuffer: 1024 * 1024 * 1024,
    });
    return out.stdout as unknown as Buffer;
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}
