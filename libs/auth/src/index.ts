export * from './actor';
export * from './password-hasher';
export * from './users.service';
export * from './tokens.service';
export * from './auth.guard';
export * from './auth.module';
export * from './console-session.service';
export * from './login-limiter';
