import { modelView } from '@accel/common';
import { JobEntity, isPreheatJob } from '@accel/db';

/** The Dragonfly manager's Job JSON (`id` a number, times RFC 3339, `is_del` always 0). */
export function jobView(job: JobEntity) {
  return {
    ...modelView(job),
    task_id: job.taskId,
    bio: job.bio,
    type: job.type,
    state: job.state,
    args: job.args,
    result: job.result,
    user_id: job.userId,
    /** Not in Dragonfly's shape: the digest an image preheat was pinned to at creation. */
    manifest_digest: job.manifestDigest ?? '',
    seed_peer_clusters: [],
    scheduler_clusters: job.schedulerClusterIds.map((id) => ({ id })),
  };
}

export type V1Status = 'WAITING' | 'RUNNING' | 'SUCCESS' | 'FAIL';

/** Dragonfly v1 (supernode) preheat status, as Harbor 2.1–2.11 polls it. Never `FAILED`: Harbor < 2.8 would poll it for 30 min. */
export function v1StatusView(job: JobEntity) {
  const status: V1Status =
    job.state === 'SUCCESS' ? 'SUCCESS' : job.state === 'FAILURE' ? 'FAIL' : job.result ? 'RUNNING' : 'WAITING';
  const errors = (isPreheatJob(job) ? (job.result?.job_states ?? []) : []).map((s) => s.error).filter(Boolean);
  return {
    ID: String(job.id),
    status,
    startTime: job.createdAt.toISOString(),
    finishTime: job.finishedAt ? job.finishedAt.toISOString() : '',
    errorMsg: status === 'FAIL' ? errors.join('; ') : '',
  };
}
