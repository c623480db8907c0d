import { nativeEngine } from './native-addon';

/**
 * Zero-filled buffers for large results that are garbage as soon as they are consumed (a Nydus
 * bootstrap, tens of MB on a large layer): `discard` gives their pages back at once instead of
 * when V8 next collects, which otherwise stacks them on the next one's peak. A discarded buffer
 * stays valid and reads as zeros, so a late reader sees wrong bytes, never freed memory.
 */
export interface ScratchMemory {
  readonly name: string;
  alloc(size: number): Buffer;
  /** Only for a buffer from `alloc` that nothing reads any more. */
  discard(block: Buffer): void;
}

interface ScratchAddon {
  scratchBlock(size: number): Buffer;
  discardBlock(block: Buffer): void;
}

/** Without the addon: V8's buffers, given back when collected. */
const heapScratch: ScratchMemory = { name: 'heap', alloc: (size) => Buffer.alloc(size), discard: () => undefined };

const loadMapped = nativeEngine<ScratchAddon, ScratchMemory>('accel_deflate', 'libdeflate-dev', (addon) => ({
  name: 'mapped',
  alloc: (size) => addon.scratchBlock(size),
  discard: (block) => addon.discardBlock(block),
}));

/** Mapped scratch memory when the deflate addon loads, V8's buffers otherwise. */
export const scratchMemory = (): ScratchMemory => loadMapped().engine ?? heapScratch;
