import { buildConfig } from '@accel/config';
import { RegistryAccess, RegistryClient } from '@accel/registry';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoopbackServer } from '../support/hostile';
import { RegistryProcess } from '../support/registry';

/**
 * Converted blobs are uploaded while they are written, from the converter's own memory: a write
 * settles once its bytes have left, and the converter refills that memory at once.
 */
describe('streamed blob uploads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'accel-upload-'));
  const registry = new RegistryProcess(dir, { kind: 'basic', users: { robot: 'robot-secret' } });
  const servers: LoopbackServer[] = [];
  before(async () => registry.start());
  after(async () => {
    await registry.stop();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (host: string, timeoutMs = 30_000) => {
    const config = buildConfig({
      auth: { encryptionKey: 'k'.repeat(44) },
      registry: {
        allowed: [host],
        credentials: [{ host, username: 'robot', password: 'robot-secret' }],
        timeoutMs,
        idleTimeoutMs: timeoutMs,
      },
    });
    return new RegistryClient(config, new RegistryAccess(config));
  };
  const loc = (host: string) => ({ scheme: 'http' as const, host, repository: 'library/upload', reference: 'v1' });

  it('memory refilled as soon as its write settles reaches the registry as it was written', async () => {
    const registryClient = client(registry.host);
    const upload = await registryClient.startBlobUpload(loc(registry.host));
    // Larger than a socket buffer takes at once, so a write that settled early would be overwritten.
    const slot = Buffer.alloc(8 << 20);
    const hash = createHash('sha256');
    for (let i = 0; i < 6; i++) {
      slot.fill(i * 37 + 1);
      slot.writeUInt32LE(i, i * 4096);
      hash.update(slot);
      await upload.write(slot);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    assert.equal(await upload.finish(digest), 6 * slot.length);
    const stored = await registryClient.getBlob(loc(registry.host), digest);
    const back = createHash('sha256');
    for await (const c of stored) back.update(c as Buffer);
    assert.equal(`sha256:${back.digest('hex')}`, digest, 'the registry holds exactly the bytes written');
  });

  /** A registry that opens uploads, then treats their PATCH with `patch`; DELETE (cancel) is answered. */
  const hostile = async (
    patch: (res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void,
  ) => {
    const s = new LoopbackServer((req, res) => {
      if (req.method === 'POST') return res.writeHead(202, { location: '/v2/library/upload/blobs/uploads/1' }).end();
      if (req.method === 'PATCH') return patch(res, req);
      res.writeHead(204).end();
    });
    servers.push(s);
    return s.start();
  };
  const writeMany = (upload: { write(d: Uint8Array): Promise<void> }) =>
    Promise.allSettled(Array.from({ length: 64 }, () => upload.write(Buffer.alloc(1 << 20, 7))));

  it('a registry that stops reading fails the pending writes within the idle timeout, with a readable reason', async () => {
    const s = await hostile((_res, req) => req.pause());
    const upload = await client(s.host, 1000).startBlobUpload(loc(s.host));
    const started = Date.now();
    const results = await writeMany(upload);
    const failures = results.filter((r) => r.status === 'rejected');
    assert.ok(failures.length > 0, 'writes beyond what the sockets hold fail');
    assert.match(String(failures[0].reason), /registry 127\.0\.0\.1:\d+ is unreachable: no bytes moved for 1 s/);
    assert.ok(Date.now() - started < 10_000, `failed in ${Date.now() - started} ms`);
    await upload.abort();
    assert.ok(
      s.seen.some((r) => r.method === 'DELETE'),
      'the upload was given up',
    );
  });

  it("a PATCH the registry refuses fails the writes with the registry's answer and sends no more", async () => {
    let received = 0;
    const s = await hostile((res, req) => {
      req.on('data', (c: Buffer) => (received += c.length));
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"no"}]}');
    });
    const upload = await client(s.host).startBlobUpload(loc(s.host));
    const results = await writeMany(upload);
    const failures = results.filter((r) => r.status === 'rejected');
    assert.ok(failures.length > 0, 'the writes after the answer fail');
    assert.match(
      String(failures.at(-1)!.reason),
      /registry 127\.0\.0\.1:\d+ denied user robot to blob upload in library\/upload: HTTP 403/,
    );
    assert.ok(received < 32 << 20, `the registry got ${received} bytes of 64 MiB`);
    await assert.rejects(upload.finish(`sha256:${'0'.repeat(64)}`), /HTTP 403/);
  });
});
