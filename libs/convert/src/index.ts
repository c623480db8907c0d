export * from './tar/tar-header';
export * from './tar/tar-reader';
export * from './estargz/toc';
export * from './estargz/gzip-member';
export * from './estargz/estargz-writer';
export * from './estargz/estargz-reader';
export * from './estargz/layer-converter';
