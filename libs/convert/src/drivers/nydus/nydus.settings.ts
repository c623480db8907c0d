import { NydusOptions } from '../../codecs/nydus/types';
import { DriverOptionReader } from '../driver-options';

export interface NydusSettings extends NydusOptions {
  fsVersion: '6';
  /** acceld's `merge_manifest`: publish an index of the originals and the Nydus manifests. */
  mergeManifest: boolean;
}

/** Nydus options from acceld's `converter.driver.config` keys (`fs_version`, `compressor`, `fs_chunk_size`, `digester`, `prefetch_patterns`, `merge_manifest`). */
export function nydusSettings(options: DriverOptionReader): NydusSettings {
  options.oneOf(['fs_version', 'rafs_version'], ['6'], '6', 'RAFS v6 is');
  const compressor = options.oneOf(['compressor', 'rafs_compressor'], ['zstd', 'lz4_block', 'none'], 'zstd');
  const chunkSize = options.integer('fs_chunk_size', 0x100000, { min: 0x1000, max: 0x1000000, powerOfTwo: true });
  const digester = options.oneOf('digester', ['blake3', 'sha256'], 'blake3');
  // acceld's default "/" prefetches the whole filesystem; an empty value writes no table.
  const prefetchPatterns = options.list('prefetch_patterns', '/', /\n/);
  const mergeManifest = options.flag('merge_manifest', false);
  return { fsVersion: '6', compressor, chunkSize, digester, prefetchPatterns, mergeManifest };
}
