export * from './deflate-engine';
export * from './gunzip-engine';
