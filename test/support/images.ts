import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Blob {
  digest: string;
  size: number;
  mediaType: string;
  data: Buffer;
}

/** A gzip'd tar layer with the given files. */
export async function layer(
  files: Record<string, Buffer | string>,
  mediaType = MT.ociLayer,
): Promise<Blob & { diffId: string }> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0), mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const data = gzipSync(raw);
  return { digest: sha256(data), size: data.length, mediaType, data, diffId: sha256(raw) };
}

export interface BuiltImage {
  manifest: Buffer;
  mediaType: string;
  digest: string;
  blobs: Blob[];
  /** Config + layer digests, the blobs a node pulls. */
  pulled: string[];
  platform: { os: string; architecture: string; variant?: string };
}

export async function image(
  opts: { docker?: boolean; arch?: string; variant?: string; layers?: number; layerBytes?: number } = {},
): Promise<BuiltImage> {
  const docker = opts.docker ?? false;
  const platform = {
    os: 'linux',
    architecture: opts.arch ?? 'amd64',
    ...(opts.variant ? { variant: opts.variant } : {}),
  };
  const layers = [];
  for (let i = 0; i < (opts.layers ?? 2); i++) {
    layers.push(
      await layer(
        {
          [`file-${i}.bin`]: randomBytes(opts.layerBytes ?? 2048),
          [`etc/note-${i}`]: `layer ${i} ${platform.architecture}\n`,
        },
        docker ? MT.dockerLayer : MT.ociLayer,
      ),
    );
  }
  const configJson = Buffer.from(
    JSON.stringify({
      ...platform,
      config: { Env: ['PATH=/usr/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: [],
    }),
  );
  const config: Blob = {
    digest: sha256(configJson),
    size: configJson.length,
    mediaType: docker ? MT.dockerConfig : MT.ociConfig,
    data: configJson,
  };
  const mediaType = docker ? MT.dockerManifest : MT.ociManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return {
    manifest,
    mediaType,
    digest: sha256(manifest),
    blobs: [config, ...layers],
    pulled: [config.digest, ...layers.map((l) => l.digest)],
    platform,
  };
}

/** The image with its first layer's gzip stream damaged (digests updated, so only unpacking notices). */
export function withCorruptFirstLayer(img: BuiltImage): BuiltImage {
  const layer = img.blobs[1];
  const corrupt = Buffer.from(layer.data);
  corrupt.fill(0x41, 20, 60);
  layer.data = corrupt;
  layer.digest = sha256(corrupt);
  const m = JSON.parse(img.manifest.toString()) as { layers: { digest: string; size: number }[] };
  m.layers[0].digest = layer.digest;
  m.layers[0].size = corrupt.length;
  img.manifest = Buffer.from(JSON.stringify(m));
  img.digest = sha256(img.manifest);
  img.pulled = [img.pulled[0], layer.digest, ...img.pulled.slice(2)];
  return img;
}

export interface BuiltIndex {
  manifest: Buffer;
  mediaType: string;
  digest: string;
  images: BuiltImage[];
}

export function index(images: BuiltImage[], docker = false): BuiltIndex {
  const mediaType = docker ? MT.dockerList : MT.ociIndex;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: images.map((i) => ({
        mediaType: i.mediaType,
        digest: i.digest,
        size: i.manifest.length,
        platform: i.platform,
      })),
    }),
  );
  return { manifest, mediaType, digest: sha256(manifest), images };
}

/** Pushes blobs and manifests with plain fetch (independent of the gateway's own registry client). */
export async function push(
  registryHost: string,
  repository: string,
  tag: string,
  what: BuiltImage | BuiltIndex,
): Promise<void> {
  const images = 'images' in what ? what.images : [what];
  for (const img of images) {
    for (const b of img.blobs) await pushBlob(registryHost, repository, b.digest, b.data);
    if ('images' in what) await putManifest(registryHost, repository, img.digest, img.mediaType, img.manifest);
  }
  await putManifest(registryHost, repository, tag, what.mediaType, what.manifest);
}

async function pushBlob(host: string, repo: string, digest: string, data: Buffer): Promise<void> {
  const head = await fetch(`http://${host}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`upload start ${start.status}`);
  const loc = new URL(start.headers.get('location')!, `http://${host}`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`blob put ${put.status}`);
}

async function putManifest(host: string, repo: string, ref: string, mediaType: string, body: Buffer): Promise<void> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': mediaType },
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest put ${res.status}: ${text}`);
}
