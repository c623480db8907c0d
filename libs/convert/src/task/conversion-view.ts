import { ConversionTaskEntity } from '@accel/db';

/** Go's zero time, which acceld prints for a task that has not finished. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** acceld's task JSON (field names and types), plus the gateway's own fields after them. */
export function conversionTaskView(t: ConversionTaskEntity) {
  return {
    id: t.uuid,
    created: t.createdAt.toISOString(),
    finished: t.finishedAt ? t.finishedAt.toISOString() : GO_ZERO_TIME,
    source: t.source,
    source_size: t.sourceSize,
    target_size: t.targetSize,
    status: t.status,
    reason: t.reason ?? '',
    target: t.target,
    target_digest: t.targetDigest ?? '',
    driver: t.driver,
    preheat_job_id: t.preheatJobId ?? 0,
    /** Not in acceld's shape (its clients ignore unknown keys): phase, layers and bytes done of the total. */
    progress: t.progress,
  };
}
