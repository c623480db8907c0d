import { Init1764000000000 } from './1764000000000-Init';

/** Every migration, oldest first. */
export const MIGRATIONS = [Init1764000000000];
