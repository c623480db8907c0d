import { PreheatJobArgs as JobArgs, PreheatScope } from '@accel/db';
import { DEFAULT_FILTERED_QUERY_PARAMS_STRING } from '@accel/dragonfly';

/** Scopes of every Harbor version: v2.12 sends single_peer/all_peers, v2.13+ the seed-peer ones, older ones nothing. */
export const SCOPES = ['single_seed_peer', 'all_seed_peers', 'all_peers', 'single_peer', ''] as const;
export type RequestedScope = (typeof SCOPES)[number];
export type Scope = PreheatScope;

export const DEFAULT_CONCURRENT_TASK_COUNT = 8;
export const DEFAULT_CONCURRENT_PEER_COUNT = 500;
/** 60 minutes, in nanoseconds as Dragonfly's JSON carries durations. */
export const DEFAULT_TIMEOUT_NS = 60 * 60 * 1e9;
/** The longest timeout a timer holds (2^31 − 1 ms), in nanoseconds. */
export const MAX_TIMEOUT_NS = (2 ** 31 - 1) * 1e6;

/** A preheat request from any dialect, before defaults. */
export interface PreheatRequest {
  type: 'image' | 'file';
  url?: string;
  urls?: string[];
  tag?: string;
  application?: string;
  filteredQueryParams?: string;
  headers?: Record<string, string>;
  platform?: string;
  scope?: RequestedScope;
  ips?: string[];
  count?: number | null;
  percentage?: number | null;
  concurrentTaskCount?: number;
  concurrentPeerCount?: number;
  pieceLength?: number | null;
  /** Nanoseconds; 0 or absent means the default. */
  timeout?: number;
  schedulerClusterIds?: number[] | null;
  bio?: string;
  /** The manifest digest the caller says `url` names now (Harbor's v1 body and Kraken event carry it): part of what a repeat must match. */
  digest?: string;
}

/** Dragonfly's wire names for a preheat's arguments, as the v2 API receives them and as stored. */
export type DragonflyArgsLike = { type: 'image' | 'file'; url?: string } & Partial<
  Pick<
    PreheatArgs,
    | 'urls'
    | 'tag'
    | 'application'
    | 'filtered_query_params'
    | 'platform'
    | 'ips'
    | 'count'
    | 'percentage'
    | 'concurrent_task_count'
    | 'concurrent_peer_count'
    | 'piece_length'
    | 'timeout'
  >
> & { scope?: RequestedScope; headers?: Record<string, string> };

/** One mapping from Dragonfly's argument names to the internal request (v2 creates and retries alike). */
export function requestFromDragonflyArgs(
  a: DragonflyArgsLike,
  extra: Pick<PreheatRequest, 'schedulerClusterIds' | 'bio'>,
): PreheatRequest {
  return {
    type: a.type,
    url: a.url || undefined,
    urls: a.urls,
    tag: a.tag,
    application: a.application,
    filteredQueryParams: a.filtered_query_params,
    headers: a.headers,
    platform: a.platform,
    scope: a.scope,
    ips: a.ips,
    count: a.count,
    percentage: a.percentage,
    concurrentTaskCount: a.concurrent_task_count,
    concurrentPeerCount: a.concurrent_peer_count,
    pieceLength: a.piece_length,
    timeout: a.timeout,
    ...extra,
  };
}

/** Dragonfly's `args` for a preheat job, defaults filled in, as returned to callers. */
/** The arguments a preheat job keeps (the job table's `args`). */
export type PreheatArgs = JobArgs;

/** What an echoed header value reads: every value is sealed apart, whatever its name. */
export const REDACTED = '[redacted]';

export function normalizeScope(scope: RequestedScope | undefined): Scope {
  // Harbor 2.12's single_peer meant "one seed peer", as Dragonfly 2.1.57–2.1.65 ran it.
  if (!scope || scope === 'single_peer') return 'single_seed_peer';
  return scope;
}

export function buildArgs(req: PreheatRequest): PreheatArgs {
  const headers: Record<string, string> = {};
  // Any header may carry a secret (X-Registry-Token, Private-Token, X-Api-Key, …): echo names only.
  for (const k of Object.keys(req.headers ?? {})) headers[k] = REDACTED;
  return {
    type: req.type,
    url: req.url ?? '',
    urls: req.urls ?? [],
    piece_length: req.pieceLength ?? null,
    tag: req.tag ?? '',
    application: req.application ?? '',
    filtered_query_params: req.filteredQueryParams || DEFAULT_FILTERED_QUERY_PARAMS_STRING,
    headers,
    platform: req.platform ?? '',
    scope: normalizeScope(req.scope),
    ips: req.ips ?? [],
    count: req.count || null,
    percentage: req.percentage || null,
    concurrent_task_count: req.concurrentTaskCount || DEFAULT_CONCURRENT_TASK_COUNT,
    concurrent_peer_count: req.concurrentPeerCount || DEFAULT_CONCURRENT_PEER_COUNT,
    timeout: req.timeout || DEFAULT_TIMEOUT_NS,
  };
}
