export * from './reference';
export * from './allow-list';
export * from './auth-challenge';
export * from './media-types';
export * from './registry-client';
export * from './image-resolver';
export * from './registry.module';
export * from './registry-store';
