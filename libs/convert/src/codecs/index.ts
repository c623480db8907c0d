// Pure formats: streams and buffers in, bytes out; no NestJS, no configuration, no registry.
export * from './tar/tar-header';
export * from './tar/tar-reader';
export * from './tar/layer-stream';
export * from './deflate';
export * from './estargz/toc';
export * from './estargz/footer';
export * from './estargz/estargz-writer';
export * from './estargz/estargz-reader';
export * from './estargz/layer-converter';
export * from './estargz/prioritized';
export * from './nydus';
export * from './binary/layout';
