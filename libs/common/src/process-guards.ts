import { Logger } from '@nestjs/common';

/**
 * A promise rejected with nobody listening is a bug to log, not a reason to stop serving:
 * Node would otherwise end the process (and every job in flight) on the first one.
 */
export function logUnhandledRejections(): void {
  const log = new Logger('Process');
  process.on('unhandledRejection', (reason) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
}
