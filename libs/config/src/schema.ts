import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

export const WORKER_QUEUES = ['preheat', 'convert'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

export class ServerConfig {
  @IsString() host = '0.0.0.0';
  @IsInt() @Min(0) @Max(65535) port = 8080;
  /** Port of the acceld-compatible conversion API (Harbor webhook target). */
  @IsInt() @Min(0) @Max(65535) conversionPort = 2077;
  /** Largest JSON body accepted, in bytes. */
  @IsInt() @Min(1024) bodyLimit = 1024 * 1024;
  /** Run the queue processors inside the manager process (single-node mode). */
  @IsBoolean() runWorkers = true;
  /**
   * The queues this process works, as a worker (or as the manager with runWorkers): `preheat`
   * (preheat and task-cache jobs, seed-peer downloads) and `convert` (image conversions). Run
   * apart, each kind of worker scales on its own and gets the V8 flags that suit it.
   */
  @IsArray() @ArrayNotEmpty() @ArrayUnique() @IsIn(WORKER_QUEUES, { each: true }) workerQueues: WorkerQueue[] = [
    ...WORKER_QUEUES,
  ];
  /** On SIGTERM, how long running jobs (seed-peer downloads, conversions) may finish before they go back to the queue. */
  @IsInt() @Min(0) shutdownGraceSeconds = 20;
}

export class DatabaseConfig {
  @IsString() host = '127.0.0.1';
  @IsInt() @Min(1) @Max(65535) port = 3306;
  @IsString() username = 'root';
  @IsString() password = '';
  @IsString() @Matches(/^[A-Za-z0-9_]+$/) database = 'accel_gateway';
  /** Run pending migrations when a process starts. */
  @IsBoolean() migrate = true;
  /** Connections per process: API calls and workers share them (MySQL's default max_connections is 151). */
  @IsInt() @Min(1) @Max(1000) poolSize = 10;
}

export class RedisConfig {
  @IsString() host = '127.0.0.1';
  @IsInt() @Min(1) @Max(65535) port = 6379;
  @IsOptional() @IsString() password?: string;
  @IsInt() @Min(0) db = 0;
  /** Key prefix of every BullMQ queue, so several gateways can share one Redis. */
  @IsString() @Matches(/^[A-Za-z0-9_-]+$/) prefix = 'accel';
  /**
   * How long a request waits to queue its saved row (ms). Past it the caller is answered and the
   * reconciler queues the row once Redis is back: a Redis outage never holds an answer.
   */
  @IsInt() @Min(50) enqueueTimeoutMs = 2000;
}

export class CustomHeaderAuthConfig {
  /** Header name Harbor's CUSTOM auth mode sends (empty = mode off). */
  @IsString() header = '';
  @IsString() value = '';
}

/** Failed password checks (Basic auth, console sign-in) allowed per window before 429. */
export class FailedLoginConfig {
  /** Per user name, from sources that have not signed in as that user before. */
  @IsInt() @Min(1) perUser = 10;
  /** Per client address, whatever the user names. */
  @IsInt() @Min(1) perSource = 30;
  @IsInt() @Min(1) windowSeconds = 300;
}

export class AuthConfig {
  /**
   * Auth mode NONE for what Harbor 2.1–2.11 calls (they can send nothing else): `/preheats`,
   * `/preheats/:id` and the Kraken notification. Nothing else is ever anonymous.
   */
  @IsBoolean() allowAnonymous = false;
  /**
   * Auth mode NONE for Harbor 2.12+'s two job calls too (`POST /oapi/v1/jobs`,
   * `GET /oapi/v1/jobs/:id`); listing and deleting jobs always need a token.
   */
  @IsBoolean() allowAnonymousJobApi = false;
  @ValidateNested() @Type(() => FailedLoginConfig) failedLogins = new FailedLoginConfig();
  /** Auth mode OAUTH: personal access tokens as `Authorization: Bearer` or `?access_token=`. */
  @IsBoolean() bearer = true;
  /** Auth mode BASIC: gateway users and their passwords. */
  @IsBoolean() basic = true;
  @ValidateNested() @Type(() => CustomHeaderAuthConfig) custom = new CustomHeaderAuthConfig();
  /** Password of the bootstrapped `root` user; generated and printed once when empty. */
  @IsString() rootPassword = '';
  /** Console sign-in sessions (JWT) last this long. */
  @IsInt() @Min(60) jwtTtlSeconds = 12 * 3600;
  /** Sign-in attempts allowed per client address and minute. */
  @IsInt() @Min(1) signinPerMinute = 10;
  /** Key (base64, 32 bytes) that encrypts secrets at rest, e.g. registry Authorization headers of queued jobs. */
  @IsString() @MinLength(40) encryptionKey: string;
}

export class RegistryCredentialConfig {
  /** host[:port] this entry applies to. */
  @IsString() host: string;
  @IsOptional() @IsString() username?: string;
  @IsOptional() @IsString() password?: string;
  /** Talk plain HTTP (or skip TLS verification) to this registry. */
  @IsBoolean() insecure = false;
  /**
   * host[:port] of the token service these credentials may be sent to when the registry's
   * challenge names it (empty: the registry's own host and port). Its token requests are
   * allowed for this registry even when the host is not in `registry.allowed`.
   */
  @IsOptional() @IsString() tokenRealm?: string;
}

export class RegistryConfig {
  /**
   * Registries the gateway may read from, as host[:port] patterns (`*` matches any run of
   * characters, e.g. `harbor.example.com`, `*.corp.example`, `127.0.0.1:*`). Anything else is refused.
   */
  @IsArray() @IsString({ each: true }) allowed: string[] = [];
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RegistryCredentialConfig)
  credentials: RegistryCredentialConfig[] = [];
  /**
   * Longest wait for a registry's response headers, and for the whole of a small document
   * (manifest, token, upload answer), ms: a registry that trickles cannot hold a job.
   */
  @IsInt() @Min(100) timeoutMs = 30_000;
  /** Longest silence inside a streamed blob, ms. */
  @IsInt() @Min(100) idleTimeoutMs = 30_000;
}

export class ConfiguredNodeConfig {
  @IsString() hostname: string;
  @IsString() ip: string;
  @IsInt() @Min(1) @Max(65535) port: number;
}

export class ConfiguredClusterConfig {
  @IsInt() @Min(1) id: number;
  @IsString() name: string;
  /** Job creations per second that name this cluster (Dragonfly's job_rate_limit, default 10). */
  @IsInt() @Min(1) @Max(1_000_000) jobRateLimit: number = 10;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConfiguredNodeConfig)
  schedulers: ConfiguredNodeConfig[] = [];
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConfiguredNodeConfig)
  seedPeers: ConfiguredNodeConfig[] = [];
}

export class PreheatConfig {
  /** Platforms preheated when the request names none; `all` preheats every platform of an index. */
  @IsArray() @IsString({ each: true }) defaultPlatforms: string[] = ['linux/amd64'];
  /** Minutes between two sync_peers runs (Dragonfly: 24 h); 0: only on demand. */
  @IsNumber() @Min(0) syncPeersIntervalMinutes = 1440;
  /** Window (seconds) in which a repeated v1 preheat of the same image answers 208 with the earlier job. */
  @IsInt() @Min(0) dedupeWindowSeconds = 600;
  /** How long (seconds) a finished seed-peer download is shared with identical requests. */
  @IsInt() @Min(0) downloadShareSeconds = 60;
  /** Preheat jobs one worker process runs at once (they mostly wait on seed peers). */
  @IsInt() @Min(1) jobConcurrency = 16;
  /** Seed-peer downloads one worker process drives at once. */
  @IsInt() @Min(1) downloadConcurrency = 32;
  /** Age (seconds) a PENDING job must reach before the reconciler re-queues it when its queue entry is gone. */
  @IsInt() @Min(0) reconcileGraceSeconds = 10;
  /** Seconds between reconciler passes. */
  @IsInt() @Min(1) reconcileIntervalSeconds = 30;
  /**
   * Seconds a worker or manager reuses the scheduler clusters, seed peers and schedulers it read
   * (every job reads them); changes made through this process apply at once, others' within this.
   */
  @IsNumber() @Min(0) inventoryCacheSeconds = 2;
  /** Seconds a seed peer health answer is trusted. */
  @IsInt() @Min(0) healthCacheSeconds = 5;
  /** Timeout of a gRPC health check, ms. */
  @IsInt() @Min(50) healthTimeoutMs = 2000;
  /**
   * Preheat jobs that may read one registry's manifests at once in a worker process; jobs past
   * it wait off their worker slot, so a slow registry cannot take every slot from the others.
   */
  @IsInt() @Min(1) registrySlots = 8;
  /** A peer must accept the gRPC connection within this many ms, or the download fails naming it. */
  @IsInt() @Min(50) peerConnectTimeoutMs = 10_000;
  /** A download stream that sends nothing (no start, no piece) for this many ms has frozen and fails. */
  @IsInt() @Min(100) peerIdleTimeoutMs = 120_000;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConfiguredClusterConfig)
  clusters: ConfiguredClusterConfig[] = [];
}

/** acceld's `provider.source.<host>.webhook`. */
export class WebhookSourceConfig {
  /** The exact `Authorization` value Harbor's webhook policy sends ("Auth Header"). */
  @IsString() auth_header = '';
}

/** acceld's `provider.source.<host>`: credentials and webhook auth for one registry host. */
export class SourceRegistryConfig {
  /** base64 of `user:password` (acceld's format); the password may contain ':'. */
  @IsString() auth = '';
  /** Skip TLS verification. */
  @IsBoolean() insecure = false;
  /** Talk plain HTTP to this registry (acceld guesses; the gateway is told). */
  @IsBoolean() plain_http = false;
  /** host[:port] of the token service `auth` may be sent to (empty: this registry itself). */
  @IsString() token_realm = '';
  @ValidateNested() @Type(() => WebhookSourceConfig) webhook = new WebhookSourceConfig();
}

export class ProviderConfig {
  /** Keyed by registry host[:port] as it appears in Harbor's resource_url. */
  @IsObject() source: Record<string, SourceRegistryConfig> = {};
  /** Scratch space for writers that need it (eStargz prioritized files); converted blobs stream straight to the registry. */
  @IsString() work_dir = '';
}

export class ConverterRuleConfig {
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_.-]*$/) tag_suffix?: string;
  @IsOptional() @IsString() cache_tag?: string;
}

export class ConverterDriverConfig {
  @IsIn(['estargz', 'nydus']) type: 'estargz' | 'nydus' = 'estargz';
  /**
   * Driver options, strings as in acceld. Both: `docker2oci` (Docker sources become OCI
   * images; default "true" for estargz, "false" for nydus, as acceld's templates),
   * `with_referrer` (default "false"). estargz: `chunk_size` (bytes, default 4194304),
   * `compression_level` (1-9, default 9), `prefetch_patterns` (newline-separated files to
   * place first, before `.prefetch.landmark`). nydus: `fs_version` (6), `compressor`,
   * `fs_chunk_size`, `digester`, `prefetch_patterns`, `merge_manifest`.
   */
  @IsObject() config: Record<string, string> = {};
}

export class ConverterPreheatConfig {
  /** Preheat every converted image into the P2P cluster. */
  @IsBoolean() enabled = false;
  /** Dragonfly scope of the chained preheat (empty: single_seed_peer). */
  @IsIn(['single_seed_peer', 'all_seed_peers', 'all_peers', 'single_peer', '']) scope:
    'single_seed_peer' | 'all_seed_peers' | 'all_peers' | 'single_peer' | '' = '';
  @IsArray() @IsInt({ each: true }) cluster_ids: number[] = [];
}

export class ConverterConfig {
  /** Conversions run at once, and layers converted at once per process. */
  @IsInt() @Min(1) @Max(64) worker = 5;
  /** Comma-separated platforms to convert (empty: all). */
  @IsString() platforms = '';
  /**
   * What compresses eStargz members: `auto` (libdeflate when its addon is built, else zlib),
   * `libdeflate` (refuse to start without it) or `zlib`. The output is valid gzip either way.
   */
  @IsIn(['auto', 'libdeflate', 'zlib']) deflate: 'auto' | 'libdeflate' | 'zlib' = 'auto';
  /**
   * What decompresses source layers: `auto` (ISA-L when its addon is built, else zlib), `isal`
   * (refuse to start without it) or `zlib`. Both check every member's CRC32 and size.
   */
  @IsIn(['auto', 'isal', 'zlib']) gunzip: 'auto' | 'isal' | 'zlib' = 'auto';
  @ValidateNested() @Type(() => ConverterDriverConfig) driver = new ConverterDriverConfig();
  @IsArray() @ValidateNested({ each: true }) @Type(() => ConverterRuleConfig) rules: ConverterRuleConfig[] = [
    Object.assign(new ConverterRuleConfig(), { tag_suffix: '-esgz' }),
  ];
  @ValidateNested() @Type(() => ConverterPreheatConfig) preheat = new ConverterPreheatConfig();
}

export class MetricsConfig {
  /** Prometheus metrics on GET /metrics. */
  @IsBoolean() enabled = true;
  /**
   * A bearer token that may read /metrics (for Prometheus), besides console users and
   * admin-scoped tokens. Empty: only those.
   */
  @IsString() token = '';
  /** Serve /metrics on this port instead, with no other route (0: on the provider/admin port). */
  @IsInt() @Min(0) @Max(65535) port = 0;
}

export class RetentionConfig {
  /**
   * Finished preheat jobs are removed this long after they ended. Longer than Dragonfly's 6 h:
   * operators read last night's failures in the morning, and accelctl shows a day of history
   * (keep it above preheat.dedupeWindowSeconds, or the v1 dialect's 208 stops matching).
   */
  @IsNumber() @Min(0.1) jobHours = 24;
  /** Finished conversion tasks (the webhook API's history). */
  @IsNumber() @Min(0.1) conversionTaskHours = 168;
  /** Audit rows, as Dragonfly's default (7 d). */
  @IsNumber() @Min(0.1) auditDays = 7;
  /** How often the manager purges (0: only when a `gc` job asks). */
  @IsInt() @Min(0) @Max(10080) intervalMinutes = 60;
  /** Rows removed per statement: short statements never hold the table for long. */
  @IsInt() @Min(1) @Max(10000) batchSize = 500;
}

export class QueueDashboardConfig {
  /** bull-board on /admin/queues for console users (reading) and root (retry, clean). Off unless asked for. */
  @IsBoolean() enabled = false;
}

export class GatewayConfig {
  @IsIn(['debug', 'log', 'warn', 'error']) logLevel: 'debug' | 'log' | 'warn' | 'error' = 'log';
  /** json (one object per line, for log shippers), pretty, or auto: pretty on a terminal, JSON otherwise. */
  @IsIn(['auto', 'json', 'pretty']) logFormat: 'auto' | 'json' | 'pretty' = 'auto';
  /** Write the JSON log lines to this file instead of stdout (empty: stdout). */
  @IsString() logFile = '';
  @ValidateNested() @Type(() => ServerConfig) server = new ServerConfig();
  @ValidateNested() @Type(() => DatabaseConfig) database = new DatabaseConfig();
  @ValidateNested() @Type(() => RedisConfig) redis = new RedisConfig();
  @ValidateNested() @Type(() => AuthConfig) auth = new AuthConfig();
  @ValidateNested() @Type(() => RegistryConfig) registry = new RegistryConfig();
  @ValidateNested() @Type(() => PreheatConfig) preheat = new PreheatConfig();
  @ValidateNested() @Type(() => ProviderConfig) provider = new ProviderConfig();
  @ValidateNested() @Type(() => ConverterConfig) converter = new ConverterConfig();
  @ValidateNested() @Type(() => MetricsConfig) metrics = new MetricsConfig();
  @ValidateNested() @Type(() => RetentionConfig) retention = new RetentionConfig();
  @ValidateNested() @Type(() => QueueDashboardConfig) queueDashboard = new QueueDashboardConfig();
}
