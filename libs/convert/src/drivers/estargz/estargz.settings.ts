import { createHash } from 'node:crypto';
import { EstargzOptions } from '../../codecs/estargz/estargz-writer';
import { DriverOptionReader } from '../driver-options';

/** Bumped when the writer's output for the same input and options changes. */
const WRITER_VERSION = 1;

export interface EstargzSettings extends EstargzOptions {
  /** Identifies the output a layer gets with these settings (converted-layer reuse key). */
  key: string;
}

/** eStargz options from acceld-style `converter.driver.config` strings, with upstream defaults. */
export function estargzSettings(options: DriverOptionReader): EstargzSettings {
  const chunkSize = options.integer('chunk_size', 4 << 20, { min: 4096 });
  const level = options.integer('compression_level', 9, { min: 1, max: 9 });
  options.oneOf('compression', ['estargz'], 'estargz');
  // acceld's nydus option name, newline-separated; commas accepted too.
  const prioritizedFiles = options.list('prefetch_patterns', '', /[\n,]/).filter((p) => p !== '/');
  const key = createHash('sha256')
    .update(JSON.stringify(['estargz', WRITER_VERSION, chunkSize, level, prioritizedFiles]))
    .digest('hex');
  return { chunkSize, level, prioritizedFiles, key };
}
