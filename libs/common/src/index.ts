export * from './secret-box';
export * from './limiter';
export * from './errors';
export * from './common.module';
export * from './log-levels';
export * from './semaphore';
export * from './process-guards';
export * from './model-view';
