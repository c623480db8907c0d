import { request } from 'undici';

/** Harbor releases whose provider behaviour differs (see harbor-provider.md §8). */
export type HarborVersion = '2.1' | '2.2' | '2.3' | '2.7' | '2.8' | '2.11' | '2.12' | '2.13' | '2.15';

export interface DistributionInstance {
  endpoint: string;
  vendor: 'dragonfly' | 'kraken';
  authMode: 'NONE' | 'BASIC' | 'OAUTH' | 'CUSTOM';
  authInfo?: Record<string, string>;
}

export interface Candidate {
  /** Harbor's external_url, with scheme. */
  externalUrl: string;
  repository: string;
  tag: string;
  digest: string;
  /** The pull JWT Harbor core mints for the task. */
  jwt: string;
}

export interface Policy {
  /** v2.12: policy.scope; v2.13+: extra_attrs.scope. */
  scope?: string;
  clusterIds?: number[];
}

export interface HarborOutcome {
  status: 'Success' | 'Error';
  error?: string;
  /** The provider's task id Harbor stored. */
  taskId?: string;
  polls: number;
  /** What Harbor writes to the job log. */
  log: string[];
  /** v2: the last job body polled. */
  job?: Record<string, unknown>;
}

const minor = (v: HarborVersion) => Number(v.split('.')[1]);

/**
 * Sends exactly what a Harbor release sends to a preheat provider (health, create, polls) and
 * concludes what that release would conclude. Polling is every `pollMs` (Harbor: 10 s).
 */
export class HarborSim {
  constructor(
    readonly version: HarborVersion,
    readonly instance: DistributionInstance,
    private readonly pollMs = 200,
    private readonly pollTimeoutMs = 60_000,
  ) {}

  private get v2(): boolean {
    return this.instance.vendor === 'dragonfly' && minor(this.version) >= 12;
  }

  healthPath(): string {
    if (this.instance.vendor === 'kraken') return '/health';
    return this.v2 ? '/healthy' : '/_ping';
  }

  /** Harbor's auth handlers; ≤2.11 never decoded stored credentials, so every mode but NONE fails before sending. */
  authHeaders(): Record<string, string> {
    const { authMode, authInfo = {} } = this.instance;
    if (authMode === 'NONE') return {};
    if (minor(this.version) <= 11) throw new Error(`missing auth info for '${authMode}' auth mode`);
    const keys = Object.keys(authInfo);
    if (keys.length === 0) throw new Error('no credential data provided');
    // Go map iteration order is random: a UI-created BASIC instance sends either entry.
    const first = keys[Math.floor(Math.random() * keys.length)];
    switch (authMode) {
      case 'BASIC':
        return { Authorization: `Basic ${Buffer.from(`${first}:${authInfo[first]}`).toString('base64')}` };
      case 'OAUTH':
        if (!authInfo.token) throw new Error('missing OAuth token');
        return { Authorization: `Bearer ${authInfo.token}` };
      case 'CUSTOM':
        return { [first]: authInfo[first] };
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
    const url = this.instance.endpoint.replace(/\/$/, '') + path;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': 'Go-http-client/1.1',
      'Accept-Encoding': 'gzip',
      ...this.authHeaders(),
    };
    if (method === 'POST') headers['Content-Type'] = 'application/json';
    const res = await request(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, headers: res.headers };
  }

  private httpError(method: string, path: string, status: number, text: string): Error {
    return new Error(`${method} "${this.instance.endpoint}${path}" error: ${status} ${text}`);
  }

  async checkHealth(): Promise<boolean> {
    try {
      const r = await this.send('GET', this.healthPath());
      return r.status >= 200 && r.status < 300;
    } catch {
      return false;
    }
  }

  async preheat(c: Candidate, policy: Policy = {}): Promise<HarborOutcome> {
    const out: HarborOutcome = { status: 'Error', polls: 0, log: [] };
    try {
      if (!(await this.checkHealth()))
        throw new Error(`preheat provider instance ${this.instance.endpoint} is not healthy`);
      if (this.instance.vendor === 'kraken') return await this.kraken(c, out);
      return this.v2 ? await this.dragonflyV2(c, policy, out) : await this.dragonflyV1(c, out);
    } catch (e) {
      out.status = 'Error';
      out.error = (e as Error).message;
      return out;
    }
  }

  private url(c: Candidate): string {
    return `${c.externalUrl}/v2/${c.repository}/manifests/${c.tag}`;
  }

  private async kraken(c: Candidate, out: HarborOutcome): Promise<HarborOutcome> {
    const body = {
      Events: [
        {
          Id: 'a'.repeat(32),
          TimeStamp: new Date().toISOString(),
          Action: 'push',
          Target: {
            MediaType: 'application/vnd.docker.distribution.manifest.v2+json',
            Digest: c.digest,
            Repository: c.repository,
            Url: this.url(c),
            Tag: c.tag,
          },
          Request: null,
          Actor: null,
        },
      ],
    };
    const r = await this.send('POST', '/registry/notifications', body);
    if (r.status < 200 || r.status > 299 || (r.status === 208 && minor(this.version) >= 3))
      throw this.httpError('POST', '/registry/notifications', r.status, r.text);
    out.status = 'Success';
    return out;
  }

  private async dragonflyV1(c: Candidate, out: HarborOutcome): Promise<HarborOutcome> {
    const body = {
      type: 'image',
      url: this.url(c),
      headers: { Authorization: `Bearer ${c.jwt}` },
      image: c.repository,
      tag: c.tag,
      digest: c.digest,
    };
    const r = await this.send('POST', '/preheats', body);
    if (r.status < 200 || r.status > 299) throw this.httpError('POST', '/preheats', r.status, r.text);
    const parsed = caseInsensitive(JSON.parse(r.text) as Record<string, unknown>);
    if (parsed.id !== undefined && typeof parsed.id !== 'string')
      throw new Error('json: cannot unmarshal number into Go struct field .ID of type string');
    if (r.status === 208 && minor(this.version) >= 3) {
      out.status = 'Success';
      out.log.push('preheat already done (208)');
      out.taskId = parsed.id as string;
      return out;
    }
    let id = parsed.id as string;
    if (!id) throw new Error('no task ID returned');
    out.taskId = id;
    const end = Date.now() + this.pollTimeoutMs;
    for (;;) {
      await sleep(this.pollMs);
      if (Date.now() > end) throw new Error('status check timeout');
      out.polls++;
      const s = await this.send('GET', `/preheats/${id}`);
      if (s.status < 200 || s.status > 299) throw this.httpError('GET', `/preheats/${id}`, s.status, s.text);
      const st = caseInsensitive(JSON.parse(s.text) as Record<string, unknown>);
      let status = String(st.status ?? '');
      const errorMsg = String(st.errormsg ?? '');
      if (minor(this.version) >= 8) {
        const marker = 'preheat task already exists, id:';
        const at = errorMsg.indexOf(marker);
        if (at >= 0) {
          id = errorMsg.slice(at + marker.length, errorMsg.lastIndexOf('"}'));
          continue;
        }
        if (status === 'FAILED') status = 'FAIL';
      }
      out.log.push(`status ${status}`);
      if (status === 'SUCCESS') {
        out.status = 'Success';
        return out;
      }
      if (status === 'FAIL') throw new Error(`preheat failed: ${errorMsg}`);
      // WAITING/PENDING/RUNNING and anything unknown: keep polling.
    }
  }

  private async dragonflyV2(c: Candidate, policy: Policy, out: HarborOutcome): Promise<HarborOutcome> {
    const v = minor(this.version);
    if (v >= 13 && policy.scope && !['single_seed_peer', 'all_seed_peers', 'all_peers'].includes(policy.scope))
      throw new Error('invalid scope');
    const body = {
      type: 'preheat',
      args: {
        type: 'image',
        url: this.url(c),
        tag: '',
        filtered_query_params: '',
        headers: { Authorization: `Bearer ${c.jwt}` },
        scope: policy.scope ?? '',
        concurrent_count: 0,
        timeout: 0,
      },
      scheduler_cluster_ids: v >= 13 && policy.clusterIds?.length ? policy.clusterIds : null,
    };
    const r = await this.send('POST', '/oapi/v1/jobs', body);
    if (r.status < 200 || r.status > 299 || r.status === 208)
      throw this.httpError('POST', '/oapi/v1/jobs', r.status, r.text);
    const job = JSON.parse(r.text) as Record<string, unknown>;
    if (typeof job.id !== 'number' || !Number.isInteger(job.id))
      throw new Error('json: cannot unmarshal id into Go struct field of type int');
    out.taskId = String(job.id);
    const end = Date.now() + this.pollTimeoutMs;
    for (;;) {
      await sleep(this.pollMs);
      if (Date.now() > end) throw new Error('status check timeout');
      out.polls++;
      const s = await this.send('GET', `/oapi/v1/jobs/${out.taskId}`);
      if (s.status < 200 || s.status > 299)
        throw this.httpError('GET', `/oapi/v1/jobs/${out.taskId}`, s.status, s.text);
      const polled = JSON.parse(s.text) as {
        state?: string;
        result?: { job_states?: { error?: string; results?: unknown[] }[] };
      };
      out.job = polled as Record<string, unknown>;
      switch (polled.state) {
        case 'PENDING':
          continue;
        case 'SUCCESS':
          out.status = 'Success';
          out.log.push(...table(polled));
          return out;
        case 'FAILURE': {
          const errors = (polled.result?.job_states ?? []).map((j) => j.error).filter(Boolean);
          out.log.push(...table(polled));
          throw new Error(errors.join('; ') || 'preheat failed');
        }
        default:
          throw new Error(`unknown state: ${polled.state}`);
      }
    }
  }
}

/** The table Harbor writes into the job log: Blob URL, Hostname, IP, Cluster ID, State, Error. */
function table(job: { result?: { job_states?: { results?: unknown[] }[] } }): string[] {
  const rows: string[] = [];
  for (const js of job.result?.job_states ?? []) {
    for (const r of (js.results ?? []) as {
      success_tasks?: { url: string; hostname: string; ip: string }[];
      failure_tasks?: { url: string; hostname: string; ip: string; description: string }[];
      scheduler_cluster_id: number;
    }[]) {
      for (const t of r.success_tasks ?? [])
        rows.push(`${t.url}\t${t.hostname}\t${t.ip}\t${r.scheduler_cluster_id}\tSUCCESS\t`);
      for (const t of r.failure_tasks ?? [])
        rows.push(`${t.url}\t${t.hostname}\t${t.ip}\t${r.scheduler_cluster_id}\tFAILURE\t${t.description}`);
    }
  }
  return rows;
}

/** Go's encoding/json matches keys case-insensitively. */
function caseInsensitive(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
