export * from './deflate-engine';
