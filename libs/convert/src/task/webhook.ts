import { UserFacingError } from '@accel/common';
import { DIGEST, ImageReference, parseImageReference } from '@accel/registry';

/** A pushed artifact from a Harbor webhook (Default or CloudEvents) or an accelctl request. */
export interface PushedArtifact extends ImageReference {
  /** resource_url exactly as received. */
  resourceUrl: string;
}

export type WebhookEvent = { kind: 'push'; artifacts: PushedArtifact[] } | { kind: 'ignored'; type: string };

export class WebhookPayloadError extends UserFacingError {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads Harbor's PUSH_ARTIFACT payloads: Default (`type`, `event_data.resources[]`) and
 * CloudEvents (`specversion`, `type: harbor.artifact.pushed`, `data.resources[]`). The
 * resource's `digest` pins the source; its `tag` holds the digest when pushed by digest.
 */
export function parseWebhook(body: unknown): WebhookEvent {
  if (!isObject(body) || typeof body.type !== 'string') throw new WebhookPayloadError('invalid webhook payload');
  let data: unknown;
  if (body.type === 'PUSH_ARTIFACT') data = body.event_data;
  else if (body.type === 'harbor.artifact.pushed' && typeof body.specversion === 'string') data = body.data;
  else return { kind: 'ignored', type: body.type };
  const resources = isObject(data) ? data.resources : undefined;
  if (!Array.isArray(resources) || resources.length === 0) throw new WebhookPayloadError('invalid webhook payload');
  const artifacts = resources.map((r) => {
    if (!isObject(r) || typeof r.resource_url !== 'string' || r.resource_url.length > 900)
      throw new WebhookPayloadError('invalid webhook payload');
    let ref: ImageReference;
    try {
      ref = parseImageReference(r.resource_url);
    } catch {
      throw new WebhookPayloadError('failed to parse resource url');
    }
    const digest = typeof r.digest === 'string' && DIGEST.test(r.digest) ? r.digest : ref.digest;
    const tag = typeof r.tag === 'string' && r.tag && !DIGEST.test(r.tag) ? r.tag : ref.tag;
    return { ...ref, tag, digest, resourceUrl: r.resource_url };
  });
  return { kind: 'push', artifacts };
}
