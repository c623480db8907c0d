export * from './entities';
export * from './data-source';
export * from './db.module';
export * from './live-key';
export * from './batched-delete';
export * from './row-statements';
