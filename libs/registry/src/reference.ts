import { UserFacingError } from '@accel/common';

/** A manifest URL as Harbor and Dragonfly send it: `<scheme>://<host>/v2/<repository>/manifests/<reference>`. */
export interface ManifestLocation {
  scheme: 'http' | 'https';
  /** host[:port], as written in the URL. */
  host: string;
  repository: string;
  /** Tag or digest. */
  reference: string;
}

const MANIFEST_URL = /^(https?):\/\/([^/?#]+)\/v2\/(.+)\/manifests\/([^/?#]+)$/;
export const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
export const REFERENCE = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})$/;

export function parseManifestUrl(url: string): ManifestLocation {
  const m = MANIFEST_URL.exec(url);
  if (!m) {
    throw new UserFacingError(
      `url ${JSON.stringify(url)} is not a manifest URL of the form <scheme>://<host>/v2/<repository>/manifests/<tag or digest>`,
    );
  }
  const [, scheme, host, repository, reference] = m;
  if (!REPOSITORY.test(repository))
    throw new UserFacingError(`url names an invalid repository ${JSON.stringify(repository)}`);
  if (!REFERENCE.test(reference))
    throw new UserFacingError(`url names an invalid tag or digest ${JSON.stringify(reference)}`);
  return { scheme: scheme as 'http' | 'https', host: host.toLowerCase(), repository, reference };
}

export const manifestUrl = (l: ManifestLocation, reference = l.reference): string =>
  `${l.scheme}://${l.host}/v2/${l.repository}/manifests/${reference}`;

export const blobUrl = (l: ManifestLocation, digest: string): string =>
  `${l.scheme}://${l.host}/v2/${l.repository}/blobs/${digest}`;

/** Parses `os/arch[/variant]`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new UserFacingError(`platform ${JSON.stringify(s)} is not of the form os/arch[/variant]`);
  }
  return { os: parts[0], architecture: parts[1], variant: parts[2] };
}

export const formatPlatform = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** `host[:port]/repository(:tag|@digest)`, as Harbor's resource_url and accelctl write references. */
export interface ImageReference {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function parseImageReference(ref: string): ImageReference {
  const slash = ref.indexOf('/');
  if (slash <= 0)
    throw new UserFacingError(`${JSON.stringify(ref)} is not a registry reference of the form host/repository:tag`);
  const host = ref.slice(0, slash).toLowerCase();
  let rest = ref.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!REPOSITORY.test(rest)) throw new UserFacingError(`${JSON.stringify(ref)} names an invalid repository`);
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
    throw new UserFacingError(`${JSON.stringify(ref)} names an invalid tag`);
  if (digest !== undefined && !DIGEST.test(digest))
    throw new UserFacingError(`${JSON.stringify(ref)} names an invalid digest`);
  return { host, repository: rest, tag, digest };
}

export const formatImageReference = (r: ImageReference): string =>
  `${r.host}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
