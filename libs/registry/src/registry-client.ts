import { GatewayConfig } from '@accel/config';
import { UserFacingError, describeError } from '@accel/common';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import { RegistryAccess } from './registry-access';
import { parseChallenge } from './auth-challenge';
import { ManifestLocation, manifestUrl } from './reference';
import { MANIFEST_ACCEPT, ManifestDocument } from './media-types';
import { readCapped } from './read-capped';
import { StreamedBlobUpload } from './streamed-upload';
import { ChunkedAgents, ChunkedRequest, chunkedAgents } from './chunked-request';

const USER_AGENT = 'accel-gateway';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 3;

/** Largest manifest the gateway reads; real ones are a few KiB. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Token scope actions; `delete` is what registries ask for to cancel an upload. */
export type Access = 'pull' | 'pull,push' | 'delete';

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  body: Buffer;
  json: ManifestDocument;
}

export interface RegistryRequestOptions {
  /** Authorization header supplied by the caller (Harbor's pull JWT); used as-is, never replaced. */
  authorization?: string;
  access?: Access;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** The registry answered, with a status that refuses the request (as opposed to not answering). */
export class RegistryStatusError extends UserFacingError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * OCI distribution client on undici: manifest and blob requests with the registry's token
 * challenge (anonymous or configured credentials), tokens cached per scope. Every URL it
 * touches, token realms included, must pass the allow-list.
 */
@Injectable()
export class RegistryClient {
  private readonly secure: Agent;
  private readonly insecure: Agent;
  private readonly chunked: ChunkedAgents = chunkedAgents();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly access: RegistryAccess,
  ) {
    const { timeoutMs: timeout, idleTimeoutMs } = config.registry;
    this.secure = new Agent({
      connectTimeout: Math.min(timeout, 10_000),
      headersTimeout: timeout,
      bodyTimeout: idleTimeoutMs,
    });
    this.insecure = new Agent({
      connectTimeout: Math.min(timeout, 10_000),
      headersTimeout: timeout,
      bodyTimeout: idleTimeoutMs,
      connect: { rejectUnauthorized: false },
    });
  }

  /** GETs a manifest by tag or digest, verifying a digest reference against the body. */
  async getManifest(
    loc: ManifestLocation,
    reference: string,
    opts: RegistryRequestOptions = {},
  ): Promise<FetchedManifest> {
    const url = manifestUrl(loc, reference);
    const res = await this.send(loc, 'GET', url, { headers: { accept: MANIFEST_ACCEPT } }, opts);
    const body = await readCapped(res.body, MAX_MANIFEST_BYTES, url, this.config.registry.timeoutMs);
    if (res.statusCode !== 200)
      throw this.statusError(res.statusCode, body, `manifest ${loc.repository}:${reference}`, loc, opts);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.includes(':') && reference !== digest) {
      throw new UserFacingError(`registry ${loc.host} returned manifest ${digest} for ${reference}`);
    }
    let json: ManifestDocument;
    try {
      json = JSON.parse(body.toString('utf8')) as ManifestDocument;
    } catch {
      throw new UserFacingError(
        `registry ${loc.host} returned a manifest for ${loc.repository}:${reference} that is not JSON`,
      );
    }
    const header = String(res.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    const mediaType = (typeof json.mediaType === 'string' && json.mediaType) || header;
    return { mediaType, digest, body, json };
  }

  /** What a reference names now, from a HEAD (Docker-Content-Digest); undefined when the registry does not say. */
  async manifestDigest(
    loc: ManifestLocation,
    reference: string,
    opts: RegistryRequestOptions = {},
  ): Promise<string | undefined> {
    const url = manifestUrl(loc, reference);
    const res = await this.send(loc, 'HEAD', url, { headers: { accept: MANIFEST_ACCEPT } }, opts);
    await res.body.dump();
    if (res.statusCode !== 200)
      throw this.statusError(res.statusCode, Buffer.alloc(0), `manifest ${loc.repository}:${reference}`, loc, opts);
    const digest = String(res.headers['docker-content-digest'] ?? '');
    return /^sha256:[a-f0-9]{64}$/.test(digest) ? digest : undefined;
  }

  /** The Authorization header that reads `loc` (for handing to seed peers), or undefined when anonymous works. */
  async authorizationFor(loc: ManifestLocation, opts: RegistryRequestOptions = {}): Promise<string | undefined> {
    if (opts.authorization) return opts.authorization;
    return this.tokens.get(this.scopeKey(loc, opts.access ?? 'pull'))?.header;
  }

  async blobExists(loc: ManifestLocation, digest: string, opts: RegistryRequestOptions = {}): Promise<boolean> {
    const url = `${loc.scheme}://${loc.host}/v2/${loc.repository}/blobs/${digest}`;
    const res = await this.send(loc, 'HEAD', url, {}, opts);
    await res.body.dump();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw this.statusError(res.statusCode, Buffer.alloc(0), `blob ${digest}`, loc, opts);
  }

  /** Streams a blob. The caller must consume or destroy the returned stream. */
  async getBlob(loc: ManifestLocation, digest: string, opts: RegistryRequestOptions = {}): Promise<Readable> {
    const url = `${loc.scheme}://${loc.host}/v2/${loc.repository}/blobs/${digest}`;
    const res = await this.send(loc, 'GET', url, { followRedirects: true }, opts);
    if (res.statusCode !== 200) {
      const body = await readCapped(res.body, 64 * 1024, url, this.config.registry.timeoutMs).catch(() =>
        Buffer.alloc(0),
      );
      throw this.statusError(res.statusCode, body, `blob ${digest}`, loc, opts);
    }
    return res.body;
  }

  /** Monolithic upload (POST then PUT ?digest=) of a blob whose digest is known. */
  async putBlob(loc: ManifestLocation, digest: string, data: Buffer | Readable, size: number): Promise<void> {
    const opts: RegistryRequestOptions = { access: 'pull,push' };
    if (await this.blobExists(loc, digest, opts)) return;
    const location = await this.openUpload(loc, opts);
    location.searchParams.set('digest', digest);
    const put = await this.send(
      loc,
      'PUT',
      location.toString(),
      {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: data,
      },
      opts,
    );
    const body = await readCapped(put.body, 64 * 1024, 'upload', this.config.registry.timeoutMs);
    if (put.statusCode !== 201) throw this.statusError(put.statusCode, body, `blob ${digest} upload`, loc, opts);
  }

  /** Opens an upload streamed while the blob is produced (its digest is given at the end). */
  async startBlobUpload(loc: ManifestLocation): Promise<StreamedBlobUpload> {
    const opts: RegistryRequestOptions = { access: 'pull,push' };
    const location = await this.openUpload(loc, opts);
    const authorization = await this.authorizationFor(loc, opts);
    return new StreamedBlobUpload(
      location,
      (url) => this.openChunked(loc, url, authorization),
      (method, url, init) => this.send(loc, method, url, init, opts),
      (url) => this.cancelUpload(loc, url),
      (status, body, what) => this.statusError(status, body, what, loc, opts),
    );
  }

  /** The streamed PATCH of an upload, on node:http: its writes say when their bytes have left. */
  private openChunked(loc: ManifestLocation, url: string, authorization: string | undefined): ChunkedRequest {
    this.access.assertAllowed(url);
    const target = new URL(url);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'content-type': 'application/octet-stream' };
    if (authorization) headers.authorization = authorization;
    const insecure = this.access.credentialsFor(loc.host)?.insecure;
    const { timeoutMs, idleTimeoutMs } = this.config.registry;
    return new ChunkedRequest(target, {
      method: 'PATCH',
      headers,
      agent: target.protocol === 'https:' ? (insecure ? this.chunked.insecure : this.chunked.https) : this.chunked.http,
      connectTimeoutMs: Math.min(timeoutMs, 10_000),
      idleTimeoutMs: Math.max(timeoutMs, idleTimeoutMs),
    });
  }

  private async openUpload(loc: ManifestLocation, opts: RegistryRequestOptions): Promise<URL> {
    const start = await this.send(
      loc,
      'POST',
      `${loc.scheme}://${loc.host}/v2/${loc.repository}/blobs/uploads/`,
      {},
      opts,
    );
    await start.body.dump();
    if (start.statusCode !== 202) throw this.statusError(start.statusCode, Buffer.alloc(0), 'blob upload', loc, opts);
    return new URL(String(start.headers.location), `${loc.scheme}://${loc.host}`);
  }

  /**
   * Best effort: registries ask for a `delete`-scoped token to drop an upload; a robot account
   * without that right leaves it to the registry's own purge of stale uploads.
   */
  private async cancelUpload(loc: ManifestLocation, url: string): Promise<void> {
    await this.send(loc, 'DELETE', url, {}, { access: 'delete' })
      .then((r) => r.body.dump())
      .catch(() => undefined);
  }

  /** Cross-repository mount of a blob the registry already holds; false when it must be uploaded. */
  async mountBlob(loc: ManifestLocation, digest: string, fromRepository: string): Promise<boolean> {
    const opts: RegistryRequestOptions = { access: 'pull,push' };
    const url = `${loc.scheme}://${loc.host}/v2/${loc.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`;
    const res = await this.send(loc, 'POST', url, {}, opts);
    await res.body.dump();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // The registry opened an upload instead of mounting; cancel it.
      const location = res.headers.location;
      if (location) await this.cancelUpload(loc, new URL(String(location), `${loc.scheme}://${loc.host}`).toString());
      return false;
    }
    return false;
  }

  async putManifest(loc: ManifestLocation, reference: string, mediaType: string, body: Buffer): Promise<string> {
    const opts: RegistryRequestOptions = { access: 'pull,push' };
    const res = await this.send(
      loc,
      'PUT',
      manifestUrl(loc, reference),
      { headers: { 'content-type': mediaType }, body },
      opts,
    );
    const text = await readCapped(res.body, 64 * 1024, 'manifest upload', this.config.registry.timeoutMs);
    if (res.statusCode !== 201) throw this.statusError(res.statusCode, text, `manifest ${reference} upload`, loc, opts);
    return `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  private dispatcher(loc: ManifestLocation): Dispatcher {
    return this.access.credentialsFor(loc.host)?.insecure ? this.insecure : this.secure;
  }

  private scopeKey(loc: ManifestLocation, access: Access): string {
    return `${loc.scheme}://${loc.host}|repository:${loc.repository}:${access}`;
  }

  /**
   * Sends one request, answering a 401 challenge once with a token (or basic credentials).
   * With `followRedirects` (blob GETs, which registries may send to object storage), up to
   * MAX_REDIRECTS hops are followed, each checked against the allow-list; the registry's
   * Authorization goes only to the registry's own origin.
   */
  private async send(
    loc: ManifestLocation,
    method: Method,
    url: string,
    init: { headers?: Record<string, string>; body?: Buffer | Readable; followRedirects?: boolean },
    opts: RegistryRequestOptions,
  ): Promise<Dispatcher.ResponseData<unknown>> {
    const res = await this.sendAuthorized(loc, method, url, init, opts);
    if (!init.followRedirects) return res;
    return this.followRedirects(loc, url, res, init.headers ?? {}, opts);
  }

  private async sendAuthorized(
    loc: ManifestLocation,
    method: Method,
    url: string,
    init: { headers?: Record<string, string>; body?: Buffer | Readable },
    opts: RegistryRequestOptions,
  ): Promise<Dispatcher.ResponseData<unknown>> {
    this.access.assertAllowed(url);
    const access = opts.access ?? 'pull';
    const key = this.scopeKey(loc, access);
    const cached = this.tokens.get(key);
    let authorization = opts.authorization ?? (cached && cached.expiresAt > Date.now() ? cached.header : undefined);
    const retryable = !(init.body instanceof Readable);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...init.headers };
      if (authorization) headers.authorization = authorization;
      let res: Dispatcher.ResponseData<unknown>;
      try {
        res = await request(url, { method, headers, body: init.body, dispatcher: this.dispatcher(loc) });
      } catch (e) {
        throw new UserFacingError(`registry ${loc.host} is unreachable: ${describeError(e)}`);
      }
      if (res.statusCode !== 401 || opts.authorization || attempt > 0 || !retryable) return res;
      const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
      await res.body.dump();
      authorization = await this.answerChallenge(loc, access, challenge);
      if (!authorization) return res;
      // A 401 whose answer is refused again is reported by the caller with the registry's own text.
    }
  }

  private async followRedirects(
    loc: ManifestLocation,
    url: string,
    first: Dispatcher.ResponseData<unknown>,
    headers: Record<string, string>,
    opts: RegistryRequestOptions,
  ): Promise<Dispatcher.ResponseData<unknown>> {
    let res = first;
    let current = new URL(url);
    for (let hop = 0; REDIRECT_STATUSES.has(res.statusCode); hop++) {
      const location = res.headers.location;
      await res.body.dump();
      if (typeof location !== 'string' || !location)
        throw new UserFacingError(`registry ${loc.host} redirected without a Location`);
      if (hop === MAX_REDIRECTS)
        throw new UserFacingError(`registry ${loc.host} redirected more than ${MAX_REDIRECTS} times`);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new UserFacingError(
          `registry ${loc.host} redirected to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`,
        );
      }
      const scheme = next.protocol.replace(':', '');
      if ((scheme !== 'http' && scheme !== 'https') || !this.access.isAllowed(scheme, next.host)) {
        throw new UserFacingError(
          `registry ${loc.host} redirected a blob to ${next.host || next.protocol}, which is not in the gateway's allowed registries (registry.allowed)`,
        );
      }
      // Object storage URLs are signed; the registry's credentials are for the registry only.
      const sameOrigin = next.origin === new URL(url).origin;
      const hopHeaders: Record<string, string> = { 'user-agent': USER_AGENT, ...headers };
      const auth = sameOrigin ? await this.authorizationFor(loc, opts) : undefined;
      if (auth) hopHeaders.authorization = auth;
      try {
        res = await request(next, {
          method: 'GET',
          headers: hopHeaders,
          dispatcher: sameOrigin ? this.dispatcher(loc) : this.secure,
        });
      } catch (e) {
        throw new UserFacingError(
          `blob storage ${next.host} of registry ${loc.host} is unreachable: ${describeError(e)}`,
        );
      }
      current = next;
    }
    return res;
  }

  private async answerChallenge(
    loc: ManifestLocation,
    access: Access,
    challenge: ReturnType<typeof parseChallenge>,
  ): Promise<string | undefined> {
    const creds = this.access.credentialsFor(loc.host);
    const basic =
      creds?.username !== undefined
        ? `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`
        : undefined;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      // Seed peers need the same header to read the blobs.
      if (basic) this.tokens.set(this.scopeKey(loc, access), { header: basic, expiresAt: Number.MAX_SAFE_INTEGER });
      return basic;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new UserFacingError(
        `registry ${loc.host} named a token service that is not a URL: ${JSON.stringify(challenge.params.realm.slice(0, 200))}`,
      );
    }
    // Credentials go only to the token service configured for them (by default the registry itself).
    const trusted = sameEndpoint(realm, creds?.tokenRealm || `${loc.scheme}://${loc.host}`);
    if (!trusted && !this.access.isAllowed(realm.protocol.replace(':', ''), realm.host)) {
      throw new UserFacingError(
        `token service ${realm.host} of registry ${loc.host} is not in the gateway's allowed registries (registry.allowed), nor the token realm configured for it`,
      );
    }
    const sendCredentials = trusted ? basic : undefined;
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', `repository:${loc.repository}:${access}`);
    let res: Dispatcher.ResponseData<unknown>;
    try {
      res = await request(realm, {
        method: 'GET',
        headers: { 'user-agent': USER_AGENT, ...(sendCredentials ? { authorization: sendCredentials } : {}) },
        dispatcher: this.dispatcher(loc),
      });
    } catch (e) {
      throw new UserFacingError(
        `token service ${realm.host} of registry ${loc.host} is unreachable: ${describeError(e)}`,
      );
    }
    const body = await readCapped(res.body, 1024 * 1024, realm.toString(), this.config.registry.timeoutMs);
    if (res.statusCode !== 200) {
      const withheld =
        basic && !sendCredentials
          ? ` (the credentials for ${loc.host} were not sent: ${realm.host} is not its configured token realm)`
          : '';
      throw new UserFacingError(
        `token service of registry ${loc.host} refused ${sendCredentials ? `user ${creds?.username}` : 'anonymous access'} to ${loc.repository}: HTTP ${res.statusCode}${withheld}`,
      );
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new UserFacingError(
        `token service ${realm.host} of registry ${loc.host} answered something that is not JSON`,
      );
    }
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new UserFacingError(`token service of registry ${loc.host} answered without a token`);
    const header = `Bearer ${token}`;
    // Refresh a little early: seed peers reuse the header after we hand it over.
    const lifetime = Math.max(30, (parsed.expires_in ?? 60) - 30) * 1000;
    this.tokens.set(this.scopeKey(loc, access), { header, expiresAt: Date.now() + lifetime });
    return header;
  }

  private statusError(
    status: number,
    body: Buffer,
    what: string,
    loc: ManifestLocation,
    opts: RegistryRequestOptions,
  ): RegistryStatusError {
    const detail = registryErrorText(body);
    if (status === 401 || status === 403) {
      const who = opts.authorization
        ? "the caller's token"
        : this.access.credentialsFor(loc.host)?.username
          ? `user ${this.access.credentialsFor(loc.host)?.username}`
          : 'anonymous access';
      return new RegistryStatusError(
        status,
        `registry ${loc.host} denied ${who} to ${what} in ${loc.repository}: HTTP ${status}${detail}`,
      );
    }
    if (status === 404)
      return new RegistryStatusError(status, `${what} not found in ${loc.host}/${loc.repository}: HTTP 404${detail}`);
    return new RegistryStatusError(status, `registry ${loc.host} answered HTTP ${status} for ${what}${detail}`);
  }
}

function registryErrorText(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first) return ` (${[first.code, first.message].filter(Boolean).join(': ')})`;
  } catch {
    /* not a registry error body */
  }
  return '';
}

/** Whether `url` is served by `endpoint` (`host[:port]` or a URL; ports default by scheme). */
export function sameEndpoint(url: URL, endpoint: string): boolean {
  let target: URL;
  try {
    target = new URL(endpoint.includes('://') ? endpoint : `${url.protocol}//${endpoint}`);
  } catch {
    return false;
  }
  const port = (u: URL) => u.port || (u.protocol === 'http:' ? '80' : '443');
  return url.hostname.toLowerCase() === target.hostname.toLowerCase() && port(url) === port(target);
}
