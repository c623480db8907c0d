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
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const REFERENCE = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})$/;

export function parseManifestUrl(url: string): ManifestLocation {
  const m = MANIFEST_URL.exec(url);
  if (!m) {
    throw new UserFacingError(`url ${JSON.stringify(url)} is not a manifest URL of the form <scheme>://<host>/v2/<repository>/manifests/<tag or digest>`);
  }
  const [, scheme, host, repository, reference] = m;
  if (!REPOSITORY.test(repository)) throw new UserFacingError(`url names an invalid repository ${JSON.stringify(repository)}`);
  if (!REFERENCE.test(reference)) throw new UserFacingError(`url names an invalid tag or digest ${JSON.stringify(reference)}`);
  return { scheme: scheme as 'http' | 'https', host: host.toLowerCase(), repository, reference };
}

export const manifestUrl = (l: ManifestLocation, reference = l.reference): string =>
  `${l.scheme}://${l.host}/v2/${l.repository}/manifests/${reference}`;

export const blobUrl = (l: ManifestLocation, digest: string): string => `${l.scheme}://${l.host}/v2/${l.repository}/blobs/${digest}`;

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
