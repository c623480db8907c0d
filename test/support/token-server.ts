import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenAccess {
  type: 'repository';
  name: string;
  actions: string[];
}

/** libtrust key id of a public key: what docker-registry matches a JWT's `kid` against. */
export function libtrustKeyId(pub: KeyObject): string {
  const der = pub.export({ type: 'spki', format: 'der' });
  const b32 = base32(createHash('sha256').update(der).digest().subarray(0, 30));
  return b32.match(/.{4}/g)!.join(':');
}

function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * A registry token service like Harbor core's: it signs RS256 JWTs (iss harbor-token-issuer,
 * aud harbor-registry) that docker-registry verifies with the certificate in `certPath`.
 * With `users`, it requires basic credentials as Harbor does for non-anonymous pulls.
 */
export class TokenServer {
  readonly issuer = 'harbor-token-issuer';
  readonly service = 'harbor-registry';
  readonly certPath: string;
  private readonly key: KeyObject;
  private readonly kid: string;
  private server?: Server;
  port = 0;
  /** Token requests seen, with the basic user (if any) and scope. */
  readonly requests: { user?: string; scope: string }[] = [];

  constructor(private readonly users: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'accel-token-'));
    const keyPath = join(dir, 'key.pem');
    this.certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        this.certPath,
        '-days',
        '2',
        '-subj',
        '/CN=harbor-token-issuer',
      ],
      { stdio: 'ignore' },
    );
    this.key = createPrivateKey(readFileSync(keyPath));
    this.kid = libtrustKeyId(createPublicKey(this.key));
  }

  get realm(): string {
    return `http://127.0.0.1:${this.port}/service/token`;
  }

  /** A token as Harbor core mints it for a preheat: pull on one repository, subject "distributor". */
  mint(access: TokenAccess[], ttlSeconds = 1800, subject = 'distributor'): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid: this.kid };
    const claims = {
      iss: this.issuer,
      sub: subject,
      aud: this.service,
      exp: now + ttlSeconds,
      nbf: now - 5,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(header)}.${b64url(claims)}`;
    return `${input}.${sign('RSA-SHA256', Buffer.from(input), this.key).toString('base64url')}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const scope = url.searchParams.get('scope') ?? '';
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (this.users[u] === undefined || this.users[u] !== p) {
        res.writeHead(401).end();
        return;
      }
      user = u;
    }
    this.requests.push({ user, scope });
    if (Object.keys(this.users).length && !user) {
      // Anonymous callers get a token without access, as Harbor does for private projects.
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: this.mint([]), expires_in: 1800 }));
      return;
    }
    const [, name, actions] = /^repository:(.+):([a-z,]+)$/.exec(scope) ?? [];
    const access: TokenAccess[] = name ? [{ type: 'repository', name, actions: actions.split(',') }] : [];
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: this.mint(access), expires_in: 1800 }));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise((r) => server.close(r));
  }
}
