import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConversionWorld, image } from '../support/conversion-world';
import { eventually, sleep } from '../support/env';
import { ROOT_BASIC } from '../support/gateway';
import { BuiltImage, withCorruptFirstLayer } from '../support/images';

const CLI = join(__dirname, '..', '..', 'apps', 'accelctl', 'src', 'main.js');

interface Progress {
  phase: string;
  layers_total: number;
  layers_done: number;
  bytes_total: number;
  bytes_done: number;
}

interface Task {
  id: string;
  status: string;
  reason: string;
  progress: Progress | null;
}

const layerBytes = (img: BuiltImage) => img.blobs.slice(1).reduce((n, b) => n + b.size, 0);

describe('conversion progress: recorded while a task runs, followed by accelctl', () => {
  let w: ConversionWorld;

  before(async () => {
    w = await ConversionWorld.start({}, {});
  });
  after(async () => w?.stop());

  /** accelctl as root against this world's gateway: `task …` with these arguments. */
  const taskArgs = (args: string[]) => [
    CLI,
    ...['-s', w.gateway.url, '-u', 'root', '-p', 'root-password-for-tests'],
    ...['task', '--addr', new URL(w.gateway.conversionUrl).host, ...args],
  ];
  const cleanEnv = { ...process.env, ACCEL_TOKEN: '', ACCEL_USER: '', ACCEL_SERVER: '' };
  const cli = (args: string[]) => promisify(execFile)(process.execPath, taskArgs(args), { env: cleanEnv });

  const taskOf = async (id: string) =>
    (await w.gateway.http<Task>('GET', `/api/v1/conversion-tasks/${id}`, { headers: { authorization: ROOT_BASIC } }))
      .json;

  it('a running task shows its phase, layers and source bytes read; its end records the whole', async () => {
    const repo = 'library/progress';
    // Long enough that the once-a-second progress save lands part-way through, at libdeflate's speed too.
    const img = await image({ layers: 2, layerBytes: 64 << 20 });
    await w.push(repo, 'v1', img);
    assert.equal((await w.webhook(w.defaultPayload(repo, 'v1', img.digest))).status, 200);
    const [first] = await eventually(async () => {
      const r = await w.gateway.http<Task[]>('GET', `/api/v1/conversion-tasks?source=${repo}`, {
        headers: { authorization: ROOT_BASIC },
      });
      return r.json.length ? r.json : undefined;
    });
    const seen: Task[] = [];
    for (let t = await taskOf(first.id); ; t = await taskOf(first.id)) {
      seen.push(t);
      if (t.status !== 'PROCESSING') break;
      await sleep(50);
    }
    const final = seen[seen.length - 1];
    assert.equal(final.status, 'COMPLETED', final.reason);
    const total = layerBytes(img);
    assert.deepEqual(final.progress, {
      phase: 'done',
      layers_total: 2,
      layers_done: 2,
      bytes_total: total,
      bytes_done: total,
    });
    const midway = seen.filter(
      (t) => t.progress?.phase === 'convert' && t.progress.bytes_done > 0 && t.progress.bytes_done < total,
    );
    assert.ok(midway.length > 0, `a view part-way through: ${JSON.stringify(seen.map((t) => t.progress))}`);
    assert.ok(
      seen.every((t, i) => i === 0 || (t.progress?.bytes_done ?? 0) >= (seen[i - 1].progress?.bytes_done ?? 0)),
      'bytes done never go back',
    );
  });

  it('accelctl task create --watch (no terminal): a line per change, the final row, exit 0', async () => {
    const repo = 'library/watched';
    const img = await image({ layers: 2, layerBytes: 4 << 20 });
    await w.push(repo, 'v1', img);
    const source = `${w.source.host}/${repo}:v1`;
    const out = await cli(['create', source, '--watch']);
    const mb = (layerBytes(img) / 1e6).toFixed(1);
    assert.match(out.stderr, new RegExp(`^task [0-9a-f-]{36} COMPLETED done: 2/2 layers, ${mb}/${mb} MB$`, 'm'));
    assert.match(out.stdout, /^ID\s+STATUS\s+PHASE\s+LAYERS\s+SOURCE\s+TARGET/m);
    assert.match(out.stdout, /COMPLETED\s+done\s+2\/2\s+/);
    assert.ok(out.stdout.includes(`${repo}:v1-esgz`), out.stdout);
  });

  it('accelctl task watch on a terminal draws a progress bar', async () => {
    const repo = 'library/tty';
    const img = await image({ layers: 2, layerBytes: 8 << 20 });
    await w.push(repo, 'v1', img);
    assert.equal((await w.webhook(w.defaultPayload(repo, 'v1', img.digest))).status, 200);
    const r = await w.gateway.http<Task[]>('GET', `/api/v1/conversion-tasks?source=${repo}`, {
      headers: { authorization: ROOT_BASIC },
    });
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, ...taskArgs(['watch', r.json[0].id])].map(quote).join(' ');
    // util-linux script(1) gives the command a pseudo-terminal, as an operator's shell would.
    const out = await promisify(execFile)('script', ['-qec', command, '/dev/null'], { env: cleanEnv });
    assert.match(out.stdout, /conversion [=█-]+ done \| layers 2\/2 \| (\d+\.\d)\/\1 MB/);
    assert.doesNotMatch(out.stdout, /^task .* COMPLETED done:/m, 'no log lines on a terminal');
  });

  it('a failed conversion: watch exits 1 and the progress says where it stopped', async () => {
    const repo = 'library/broken';
    const img = withCorruptFirstLayer(await image({ layers: 1, layerBytes: 1 << 20 }));
    await w.push(repo, 'v1', img);
    await assert.rejects(
      cli(['create', `${w.source.host}/${repo}:v1`, '--watch']),
      (e: { code: number; stdout: string; stderr: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr, /FAILED convert: 0\/1 layers/);
        assert.match(e.stdout, /FAILED\s+convert\s+0\/1\s+.*source layer is corrupt/);
        return true;
      },
    );
  });
});
