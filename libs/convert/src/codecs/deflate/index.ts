export * from './deflate-engine';
export * from './gunzip-engine';
export * from './scratch-memory';
