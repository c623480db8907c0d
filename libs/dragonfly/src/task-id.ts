import { createHash } from 'node:crypto';

/** Query keys dfget and the proxy drop before hashing (S3, GCS, OSS, OBS, COS, containerd), in Dragonfly's order. */
export const DEFAULT_FILTERED_QUERY_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-User-Agent',
  'X-Goog-Algorithm',
  'X-Goog-Credential',
  'X-Goog-Date',
  'X-Goog-Expires',
  'X-Goog-SignedHeaders',
  'X-Goog-Signature',
  'OSSAccessKeyId',
  'Expires',
  'Signature',
  'SecurityToken',
  'AccessKeyId',
  'Signature',
  'Expires',
  'X-Obs-Date',
  'X-Obs-Security-Token',
  'q-sign-algorithm',
  'q-ak',
  'q-sign-time',
  'q-key-time',
  'q-header-list',
  'q-url-param-list',
  'q-signature',
  'x-cos-security-token',
  'ns',
];

/** The manager's `filtered_query_params` default: the list above joined with `&`, duplicates kept. */
export const DEFAULT_FILTERED_QUERY_PARAMS_STRING = DEFAULT_FILTERED_QUERY_PARAMS.join('&');

export interface TaskIdInput {
  url: string;
  tag?: string;
  application?: string;
  /** Hugging Face / ModelScope revision; empty for registry preheats. */
  revision?: string;
  pieceLength?: number;
  filteredQueryParams?: readonly string[];
  /** When set, the task id is the hash of this content alone. */
  contentForCalculatingTaskId?: string;
}

/** The URL as the Rust dfdaemon hashes it: WHATWG form, filtered keys removed, original order, root slash trimmed. */
export function normalizeTaskUrl(url: string, filtered: readonly string[] = []): string {
  const u = new URL(url);
  const drop = new Set(filtered);
  const kept = [...u.searchParams].filter(([k]) => !drop.has(k));
  u.search = kept.length === 0 ? '' : new URLSearchParams(kept).toString();
  let s = u.toString();
  if (s.endsWith('/') && u.pathname === '/') s = s.slice(0, -1);
  return s;
}

/**
 * Dragonfly v2 task id (Rust client ≥ v1.2.15, Go manager ≥ v2.4.3): hex sha256 of
 * url + tag + application + revision + piece_length + "STANDARD", concatenated without separators.
 */
export function computeTaskId(input: TaskIdInput): string {
  const h = createHash('sha256');
  if (input.contentForCalculatingTaskId !== undefined) return h.update(input.contentForCalculatingTaskId).digest('hex');
  h.update(normalizeTaskUrl(input.url, input.filteredQueryParams ?? []));
  if (input.tag) h.update(input.tag);
  if (input.application) h.update(input.application);
  if (input.revision) h.update(input.revision);
  if (input.pieceLength !== undefined && input.pieceLength !== null) h.update(String(input.pieceLength));
  h.update('STANDARD');
  return h.digest('hex');
}

/** Splits the manager's `&`-joined parameter string, as the scheduler does with strings.Split. */
export const splitFilteredQueryParams = (s: string): string[] => (s === '' ? [] : s.split('&'));
