export * from './task-id';
export * from './hash-ring';
export * from './proto';
export * from './messages';
export * from './grpc-clients';
export * from './cluster-inventory';
export * from './cluster.repository';
export * from './dragonfly.module';
