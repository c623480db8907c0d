import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Where Debian's golang-github-containerd-stargz-snapshotter-dev puts upstream's Go sources. */
const GOPATH = '/usr/share/gocode';
const SOURCE = join(__dirname, '..', '..', '..', 'test', 'support', 'estargz-verify');

let built: string | undefined;

/** Builds test/support/estargz-verify against upstream's estargz package, offline, once per process. */
function verifier(): string {
  if (built) return built;
  const dir = join(tmpdir(), `accel-estargz-verify-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, 'estargz-verify');
  if (!existsSync(bin))
    execFileSync('go', ['build', '-o', bin, '.'], {
      cwd: SOURCE,
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    });
  return (built = bin);
}

/** Upstream's reader opens the blob, verifies its TOC digest and every chunk and file digest. */
export async function verifyWithUpstreamReader(
  blob: Buffer,
  tocDigest: string,
): Promise<{ files: number; chunks: number }> {
  const bin = verifier();
  const path = join(tmpdir(), `accel-esgz-${process.pid}-${Math.random().toString(36).slice(2)}.blob`);
  writeFileSync(path, blob);
  try {
    const { stdout } = await promisify(execFile)(bin, [path, tocDigest]);
    return JSON.parse(stdout) as { files: number; chunks: number };
  } catch (e) {
    throw new Error(`upstream eStargz reader refused the blob: ${(e as { stderr?: string }).stderr ?? e}`, {
      cause: e,
    });
  } finally {
    execFileSync('rm', ['-f', path]);
  }
}
