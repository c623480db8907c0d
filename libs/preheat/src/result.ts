import { GroupJobState, JobEntity, JobState, JobStateEntry, PreheatClusterResult } from '@accel/db';

/** Dragonfly's machinery task TTL for preheat results (24 h), echoed for clients that read it. */
const RESULT_TTL_SECONDS = 86_400;

export function stateEntry<R = PreheatClusterResult>(
  job: JobEntity,
  state: JobState,
  error: string,
  results: R[],
  index = 0,
): JobStateEntry<R> {
  return {
    task_uuid: `task_${job.taskId.replace(/^group_/, '')}_${index}`,
    task_name: job.type,
    state,
    error,
    created_at: job.createdAt.toISOString(),
    ttl: RESULT_TTL_SECONDS,
    results,
  };
}

/** Group state as Dragonfly computes it: any FAILURE fails the group; anything not SUCCESS keeps it PENDING. */
export function groupState<R = PreheatClusterResult>(
  job: JobEntity,
  entries: JobStateEntry<R>[],
  final: boolean,
): GroupJobState<R> {
  const state: JobState = entries.some((e) => e.state === 'FAILURE')
    ? 'FAILURE'
    : final && entries.length > 0 && entries.every((e) => e.state === 'SUCCESS')
      ? 'SUCCESS'
      : final
        ? 'FAILURE'
        : 'PENDING';
  return {
    group_uuid: job.taskId,
    state,
    created_at: job.createdAt.toISOString(),
    updated_at: new Date().toISOString(),
    job_states: entries,
  };
}

/** One readable line from many per-download failures (Harbor shows job_states[].error). */
export function summarizeFailures(total: number, failures: { description: string }[]): string {
  if (failures.length === 0) return '';
  const reasons = [...new Set(failures.map((f) => f.description))];
  const text = `${failures.length} of ${total} downloads failed: ${reasons.slice(0, 5).join('; ')}${reasons.length > 5 ? `; and ${reasons.length - 5} more` : ''}`;
  return text.length > 4000 ? `${text.slice(0, 3997)}...` : text;
}
