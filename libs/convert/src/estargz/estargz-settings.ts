import { GatewayConfig } from '@accel/config';
import { createHash } from 'node:crypto';
import { EstargzOptions } from './estargz-writer';

/** Bumped when the writer's output for the same input and options changes. */
const WRITER_VERSION = 1;

export interface EstargzDriverSettings extends EstargzOptions {
  /** Identifies the output a layer gets with these settings (converted-layer reuse key). */
  key: string;
}

/** eStargz options from acceld-style `converter.driver.config` strings, with upstream defaults. */
export function estargzSettings(config: GatewayConfig): EstargzDriverSettings {
  const c = config.converter.driver.config;
  const chunkSize = c.chunk_size ? Number(c.chunk_size) : 4 << 20;
  const level = c.compression_level ? Number(c.compression_level) : 9;
  if (!Number.isInteger(chunkSize) || chunkSize < 4096)
    throw new Error('converter.driver.config.chunk_size must be an integer of at least 4096');
  if (!Number.isInteger(level) || level < 1 || level > 9)
    throw new Error('converter.driver.config.compression_level must be 1-9');
  if (c.compression && c.compression !== 'estargz')
    throw new Error(`converter.driver.config.compression ${c.compression} is not supported; use estargz`);
  // acceld's nydus option name, newline-separated; commas accepted too.
  const prioritizedFiles = (c.prefetch_patterns ?? '')
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter((p) => p && p !== '/');
  const key = createHash('sha256')
    .update(JSON.stringify(['estargz', WRITER_VERSION, chunkSize, level, prioritizedFiles]))
    .digest('hex');
  return { chunkSize, level, prioritizedFiles, key };
}
