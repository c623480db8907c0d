export * from './blob-format';
export * from './types';
export * from './fs-tree';
export * from './blob-writer';
export * from './blob-reader';
export * from './rafs-v6';
export * from './bootstrap-layer';
export * from './rafs-v6-layout';
