import { UserFacingError } from '@accel/common';
import { DeleteTaskJobArgs, GetTaskJobArgs } from '@accel/db';
import { DEFAULT_FILTERED_QUERY_PARAMS_STRING, computeTaskId, splitFilteredQueryParams } from '@accel/dragonfly';
import { DEFAULT_CONCURRENT_PEER_COUNT, DEFAULT_TIMEOUT_NS } from '../preheat-args';

export type TaskCacheJobType = 'get_task' | 'delete_task';

/** A get_task or delete_task request in Dragonfly's wire names, before defaults. */
export interface TaskCacheRequest {
  task_id?: string;
  url?: string;
  piece_length?: number | null;
  tag?: string;
  application?: string;
  filtered_query_params?: string;
  content_for_calculating_task_id?: string | null;
  concurrent_peer_count?: number;
  timeout?: number;
}

/** Dragonfly's handler rule: a task is named by its id, its URL (and recipe) or its content. */
export function taskCacheArgs(type: TaskCacheJobType, r: TaskCacheRequest): GetTaskJobArgs | DeleteTaskJobArgs {
  if (!r.task_id && !r.url && r.content_for_calculating_task_id == null)
    throw new UserFacingError('invalid params: task_id, url or content_for_calculating_task_id is required');
  if (r.url) {
    try {
      new URL(r.url);
    } catch {
      throw new UserFacingError(`invalid params: url ${r.url} is not a URL`);
    }
  }
  const args: DeleteTaskJobArgs = {
    task_id: r.task_id ?? '',
    url: r.url ?? '',
    piece_length: r.piece_length ?? null,
    tag: r.tag ?? '',
    application: r.application ?? '',
    filtered_query_params: r.filtered_query_params || DEFAULT_FILTERED_QUERY_PARAMS_STRING,
    content_for_calculating_task_id: r.content_for_calculating_task_id ?? null,
    timeout: r.timeout || DEFAULT_TIMEOUT_NS,
  };
  return type === 'get_task'
    ? { ...args, concurrent_peer_count: r.concurrent_peer_count || DEFAULT_CONCURRENT_PEER_COUNT }
    : args;
}

/** The task id peers cache under, as Dragonfly's manager picks it: URL recipe first, then content, then the id given. */
export function taskIdOf(args: DeleteTaskJobArgs): string {
  if (args.url)
    return computeTaskId({
      url: args.url,
      tag: args.tag,
      application: args.application,
      pieceLength: args.piece_length ?? undefined,
      filteredQueryParams: splitFilteredQueryParams(args.filtered_query_params),
    });
  if (args.content_for_calculating_task_id != null)
    return computeTaskId({ url: '', contentForCalculatingTaskId: args.content_for_calculating_task_id });
  return args.task_id;
}
