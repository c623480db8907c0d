import { GatewayConfig } from '@accel/config';
import { NydusOptions } from './types';

export interface NydusDriverSettings extends NydusOptions {
  fsVersion: '6';
}

/** Nydus options from acceld's `converter.driver.config` keys (`fs_version`, `compressor`, `fs_chunk_size`, `digester`, `prefetch_patterns`). */
export function nydusSettings(config: GatewayConfig): NydusDriverSettings {
  const c = config.converter.driver.config;
  const fsVersion = c.fs_version ?? c.rafs_version ?? '6';
  if (fsVersion !== '6')
    throw new Error(`converter.driver.config.fs_version ${fsVersion} is not supported; RAFS v6 is`);
  const compressor = c.compressor ?? c.rafs_compressor ?? 'zstd';
  if (compressor !== 'zstd' && compressor !== 'lz4_block' && compressor !== 'none')
    throw new Error(`converter.driver.config.compressor ${compressor} is not supported; use zstd, lz4_block or none`);
  const raw = c.fs_chunk_size ?? '0x100000';
  const chunkSize = raw.startsWith('0x') ? parseInt(raw, 16) : Number(raw);
  if (
    !Number.isInteger(chunkSize) ||
    chunkSize < 0x1000 ||
    chunkSize > 0x1000000 ||
    (chunkSize & (chunkSize - 1)) !== 0
  ) {
    throw new Error('converter.driver.config.fs_chunk_size must be a power of two from 0x1000 to 0x1000000');
  }
  const digester = c.digester ?? 'blake3';
  if (digester !== 'blake3' && digester !== 'sha256')
    throw new Error(`converter.driver.config.digester ${digester} is not supported; use blake3 or sha256`);
  // acceld's default "/" prefetches the whole filesystem; an empty value writes no table.
  const prefetchPatterns = (c.prefetch_patterns ?? '/')
    .split('\n')
    .map((p) => p.trim())
    .filter(Boolean);
  return { fsVersion: '6', compressor, chunkSize, digester, prefetchPatterns };
}
