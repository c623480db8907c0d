import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Finds the repository's proto/ directory from the compiled file's location (dist/… or the image's /app). */
export function findProtoDir(start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'dfdaemon.proto'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`proto/ directory not found above ${start}`);
  }
}

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: grpc.GrpcObject | undefined;

/** The gateway's Dragonfly protos (common.v2, dfdaemon.v2, scheduler.v2, grpc.health.v1) as grpc-js constructors. */
export function loadDragonflyProtos(): grpc.GrpcObject {
  if (!cached) {
    const dir = findProtoDir();
    const def = protoLoader.loadSync(['common.proto', 'dfdaemon.proto', 'scheduler.proto', 'health.proto'], {
      ...LOADER_OPTIONS,
      includeDirs: [dir],
    });
    cached = grpc.loadPackageDefinition(def);
  }
  return cached;
}

type Ctor = grpc.ServiceClientConstructor;

export function serviceCtor(path: string): Ctor {
  let node: unknown = loadDragonflyProtos();
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  if (!node) throw new Error(`service ${path} is not in the loaded protos`);
  return node as Ctor;
}
